import Dispatch
import Synchronization

extension KafkaConsumer {
    /// Wakes the broker threads that fetch `partitions`, so that a resume,
    /// or room made in librdkafka's queue, takes effect at once.
    ///
    /// Why: librdkafka 2.0 acts on a resume, and on a drained queue, when
    /// the partition leader's broker thread next wakes up; with no fetch in
    /// flight that thread sleeps up to a second. In the Kafka word-count
    /// benchmark with a read buffer of 25,000 records a partition, a
    /// 1,000,000-record batch took 1.2–2.0 s instead of 0.4–0.5 s, each
    /// resume followed by ~0.8 s without a fetch. A ListOffsets request for
    /// the partitions goes through those same threads and wakes them; its
    /// answer is not used. It is sent from a background queue, so the
    /// caller does not wait for it.
    func wakeFetchers(of partitions: [KafkaTopicPartition], then done: @escaping @Sendable () -> Void = {}) {
        guard !partitions.isEmpty else { return done() }
        DispatchQueue.global(qos: .utility).async { [self] in
            // A closed or failing consumer answers with an error: nothing to wake.
            if (try? client.listOffsets(partitions, .end, timeout: .seconds(1))) != nil {
                fetcherWakeups.add(1, ordering: .relaxed)
            }
            done()
        }
    }

    /// After a poll: wakes the fetchers of the assignment when
    /// ``FetchWakePolicy`` says the poll emptied a queue it had been behind.
    func wakeFetchersIfBehind(queuedBefore: Int, polled: Int) {
        guard fetchWake.withLock({ $0.shouldWake(queuedBefore: queuedBefore, polled: polled) }) else { return }
        let assignment = (try? assignment()) ?? []
        wakeFetchers(of: assignment) { [self] in fetchWake.withLock { $0.answered() } }
    }

    /// How many wake-up requests were answered (resumes, and polls that
    /// left librdkafka's queue behind).
    var fetcherWakeupCount: Int { fetcherWakeups.load(ordering: .relaxed) }
}
