/// JSON user-behaviour events keyed by user:
/// `{"user":"u1042","event":"click","page":"/products/17","ts":1767225600000,"session":"s3f2a"}`
enum UserEventShape {
    static let events = ["view", "view", "view", "view", "click", "click", "add_to_cart", "purchase", "search"]
    static let pages = ["/", "/products", "/products/{id}", "/cart", "/checkout", "/search"]

    static func record(index: Int, base: Int64, random: inout SeededGenerator) -> GeneratedRecord {
        let user = "u\(random.below(5_000))"
        let event = events[random.below(events.count)]
        let page = pages[random.below(pages.count)].replacingOccurrences(of: "{id}", with: String(random.below(500)))
        let session = "s" + String(random.below(1 << 20), radix: 16)
        let ts = base + Int64(index) * 10 + Int64(random.below(10))
        return GeneratedRecord(
            key: user,
            value: #"{"user":"\#(user)","event":"\#(event)","page":"\#(page)","ts":\#(ts),"session":"\#(session)"}"#)
    }
}
