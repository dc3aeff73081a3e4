import Dispatch
import Synchronization

extension KafkaConsumer {
    /// Wakes the broker threads that fetch `partitions`, so that a resume
    /// takes effect at once.
    ///
    /// Why: librdkafka 2.0 acts on a resume when the partition leader's
    /// broker thread next wakes up. With every partition paused that thread
    /// sleeps up to a second: in the Kafka word-count benchmark with a read
    /// buffer of 25,000 records a partition, a 1,000,000-record batch took
    /// 1.2–2.0 s instead of 0.4–0.5 s, each resume followed by ~0.8 s without
    /// a fetch. A ListOffsets request for the partitions goes through those
    /// same threads and wakes them; its answer is not used. It is sent from a
    /// background queue, so `resume` does not wait for it.
    func wakeFetchers(of partitions: [KafkaTopicPartition]) {
        guard !partitions.isEmpty else { return }
        DispatchQueue.global(qos: .utility).async { [self] in
            // A closed or failing consumer answers with an error: nothing to wake.
            if (try? client.listOffsets(partitions, .end, timeout: .seconds(1))) != nil {
                fetcherWakeups.add(1, ordering: .relaxed)
            }
        }
    }

    /// How many resumes woke the fetching threads (their ListOffsets request
    /// was answered).
    var fetcherWakeupCount: Int { fetcherWakeups.load(ordering: .relaxed) }
}
