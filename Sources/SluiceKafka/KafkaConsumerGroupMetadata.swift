import CRdKafka

/// A consumer's group membership (group id, generation, member id), as a
/// transactional producer needs it to commit offsets with its transaction.
/// Stored in librdkafka's serialized form, so it is a plain value.
public struct KafkaConsumerGroupMetadata: Sendable, Hashable {
    let serialized: [UInt8]

    init(_ metadata: OpaquePointer) throws {
        var buffer: UnsafeMutableRawPointer?
        var size = 0
        if let failure = rd_kafka_consumer_group_metadata_write(metadata, &buffer, &size) {
            throw KafkaError(consuming: failure, "serialize consumer group metadata")
        }
        guard let buffer else { throw KafkaError(code: .fail, message: "serialize consumer group metadata: no data") }
        defer { rd_kafka_mem_free(nil, buffer) }
        serialized = Array(UnsafeRawBufferPointer(start: buffer, count: size))
    }

    /// Metadata for a group with no live member (generation -1), for a
    /// producer that commits offsets of a group it does not poll itself.
    public init(groupID: String) throws {
        guard let metadata = rd_kafka_consumer_group_metadata_new(groupID) else {
            throw KafkaError(code: .invalidArgument, message: "group metadata for '\(groupID)'")
        }
        defer { rd_kafka_consumer_group_metadata_destroy(metadata) }
        try self.init(metadata)
    }

    /// Lends a fresh librdkafka object, destroyed after `body`.
    func withMetadataPointer<T>(_ body: (OpaquePointer) throws -> T) throws -> T {
        var metadata: OpaquePointer?
        let failure = serialized.withUnsafeBytes { bytes in
            rd_kafka_consumer_group_metadata_read(&metadata, bytes.baseAddress, bytes.count)
        }
        if let failure { throw KafkaError(consuming: failure, "read consumer group metadata") }
        guard let metadata else { throw KafkaError(code: .fail, message: "read consumer group metadata: none") }
        defer { rd_kafka_consumer_group_metadata_destroy(metadata) }
        return try body(metadata)
    }
}
