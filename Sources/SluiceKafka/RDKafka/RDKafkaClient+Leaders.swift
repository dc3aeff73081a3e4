import CRdKafka

/// librdkafka topic handles (`rd_kafka_topic_t`) held for a moment, each
/// released in `deinit`; they keep the client alive.
final class RDKafkaTopicHandles {
    private let client: RDKafkaClient
    private let handles: [OpaquePointer]

    fileprivate init(client: RDKafkaClient, handles: [OpaquePointer]) {
        self.client = client
        self.handles = handles
    }

    deinit {
        for handle in handles { rd_kafka_topic_destroy(handle) }
    }
}

extension RDKafkaClient {
    /// Makes librdkafka learn the partition leaders of these topics before
    /// an assignment starts: creates a handle for each topic, then asks for
    /// its metadata, whose answer fills in the leaders before the call
    /// returns. *Blocking*, up to `timeout` per topic; a topic whose request
    /// fails is skipped (the assignment works without it, only later).
    ///
    /// Why: librdkafka 2.0.2 looks up a logical start offset (beginning,
    /// end, committed) as soon as the assignment starts, and when it does
    /// not know the partition's leader yet — always the case for a topic
    /// this client has no handle for, since a metadata answer only updates
    /// topics that have one — it schedules the lookup again 500 ms later
    /// (`rd_kafka_toppar_offset_request`: "no current leader for
    /// partition") instead of when the leader becomes known, a few
    /// milliseconds later. Every `assign` from the beginning of a topic
    /// waited those 500 ms for its first record.
    ///
    /// The topics must exist: on brokers that create topics on demand (the
    /// mock cluster always does), a handle makes librdkafka ask for the
    /// topic by name.
    func learnLeaders(of topics: Set<String>, timeout: Duration) -> RDKafkaTopicHandles {
        var handles: [OpaquePointer] = []
        for topic in topics.sorted() {
            // rd_kafka_topic_new takes no ownership of the (nil) topic conf.
            guard let handle = rd_kafka_topic_new(self.handle, topic, nil) else { continue }
            handles.append(handle)
            var metadata: UnsafePointer<rd_kafka_metadata>?
            let err = rd_kafka_metadata(self.handle, 0, handle, &metadata, Int32(timeout.timeoutMilliseconds))
            if err == RD_KAFKA_RESP_ERR_NO_ERROR, let metadata { rd_kafka_metadata_destroy(metadata) }
        }
        return RDKafkaTopicHandles(client: self, handles: handles)
    }
}
