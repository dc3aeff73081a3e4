/// Renders elements the way Spark's `print` and `saveAsTextFiles` do
/// (Scala's `toString`): tuples as `(a,b)` without spaces or quotes, optionals
/// as `Some(x)` / `None`, arrays as `[a, b]`, anything else with
/// `String(describing:)`.
public enum SparkFormat {
    public static func string<T>(_ value: T) -> String {
        if let string = value as? String { return string }
        if let substring = value as? Substring { return String(substring) }
        let mirror = Mirror(reflecting: value)
        switch mirror.displayStyle {
        case .tuple:
            return "(" + mirror.children.map { string($0.value) }.joined(separator: ",") + ")"
        case .optional:
            guard let wrapped = mirror.children.first else { return "None" }
            return "Some(\(string(wrapped.value)))"
        case .collection:
            return "[" + mirror.children.map { string($0.value) }.joined(separator: ", ") + "]"
        default:
            return String(describing: value)
        }
    }
}
