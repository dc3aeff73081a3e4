/// The scheduler's view of a `Clock`: "now" and "sleep until" in batch time
/// (milliseconds). Erases the clock type so that `StreamingContext` and
/// `DStream` are not generic over it.
struct BatchClock: Sendable {
    let now: @Sendable () -> Time
    let sleepUntil: @Sendable (Time) async throws -> Void

    /// Maps `clock` onto batch time: the clock's reading when this value is
    /// made is `origin`, and batch time advances with the clock.
    init<C: Clock>(_ clock: C, origin: Time) where C.Duration == Duration {
        let reference = clock.now
        now = {
            origin + reference.duration(to: clock.now)
        }
        sleepUntil = { time in
            let deadline = reference.advanced(by: time - origin)
            try await clock.sleep(until: deadline, tolerance: nil)
        }
    }
}
