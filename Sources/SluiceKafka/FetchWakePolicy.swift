/// When a poll should wake the threads that fetch for the consumer.
///
/// librdkafka stops fetching while its local queue holds more than
/// `queued.min.messages` records or `queued.max.messages.kbytes`, and once
/// the application has drained it, fetches again only when the broker
/// thread next wakes up: up to a second later when no other fetch is in
/// flight. With the direct stream's queue at 1 MB its fetch thread saw gaps
/// of 0.75–1.0 s between records, a few per million records. So when a poll
/// empties a queue that earlier polls had left records in (the consumer
/// was behind librdkafka's read-ahead, which may have been at its limit),
/// it wakes the fetching threads (a ListOffsets request); at most one such
/// request is in flight. Waking while the queue is still full does nothing:
/// the woken thread finds the queue over its limit and sleeps again.
struct FetchWakePolicy: Sendable {
    private var behind = false
    private var inFlight = false

    /// Whether the poll that found `queuedBefore` records in librdkafka's
    /// queue and took `polled` of them should wake the fetchers; when it
    /// should, the wake counts as in flight until ``answered()``.
    mutating func shouldWake(queuedBefore: Int, polled: Int) -> Bool {
        if queuedBefore > polled {
            behind = true
            return false
        }
        guard behind, !inFlight else { return false }
        behind = false
        inFlight = true
        return true
    }

    /// The wake-up request was answered (or failed): another may be sent.
    mutating func answered() {
        inFlight = false
    }
}
