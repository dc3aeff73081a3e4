/// Apache combined log format lines:
/// `203.0.113.7 - - [01/Jan/2026:00:00:00 +0000] "GET /products/42 HTTP/1.1" 200 5123 "-" "Mozilla/5.0 (...)"`
enum AccessLogShape {
    static let methods = ["GET", "GET", "GET", "GET", "POST", "PUT", "DELETE"]
    static let paths = ["/", "/index.html", "/products", "/products/{id}", "/cart", "/checkout", "/api/v1/items/{id}", "/search?q={id}", "/login", "/static/app.js"]
    static let statuses = [200, 200, 200, 200, 200, 200, 301, 304, 404, 500]
    static let agents = [
        "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) Safari/605.1.15",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/126.0",
        "curl/8.5.0",
    ]
    static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    static func record(index: Int, base: Int64, random: inout SeededGenerator) -> GeneratedRecord {
        let ip = "10.\(random.below(4)).\(random.below(256)).\(1 + random.below(254))"
        let method = methods[random.below(methods.count)]
        let path = paths[random.below(paths.count)].replacingOccurrences(of: "{id}", with: String(random.below(1000)))
        let status = statuses[random.below(statuses.count)]
        let bytes = status == 304 ? 0 : 200 + random.below(20_000)
        let agent = agents[random.below(agents.count)]
        let time = CivilTime(millisecondsSinceEpoch: base + Int64(index) * 10)
        let stamp = "\(pad(time.day))/\(months[time.month - 1])/\(time.year):\(pad(time.hour)):\(pad(time.minute)):\(pad(time.second)) +0000"
        return GeneratedRecord(key: ip, value: "\(ip) - - [\(stamp)] \"\(method) \(path) HTTP/1.1\" \(status) \(bytes) \"-\" \"\(agent)\"")
    }

    static func pad(_ value: Int) -> String { value < 10 ? "0\(value)" : String(value) }
}

extension String {
    func replacingOccurrences(of target: String, with replacement: String) -> String {
        split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
    }
}

/// UTC calendar fields of an epoch time (proleptic Gregorian), without Foundation.
struct CivilTime {
    var year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int

    init(millisecondsSinceEpoch ms: Int64) {
        let seconds = Int(ms / 1000)
        var days = seconds / 86_400
        let rest = seconds % 86_400
        hour = rest / 3600
        minute = (rest % 3600) / 60
        second = rest % 60
        // Howard Hinnant's days-from-civil inverse.
        days += 719_468
        let era = (days >= 0 ? days : days - 146_096) / 146_097
        let doe = days - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        day = doy - (153 * mp + 2) / 5 + 1
        month = mp < 10 ? mp + 3 : mp - 9
        year = yoe + era * 400 + (month <= 2 ? 1 : 0)
    }
}
