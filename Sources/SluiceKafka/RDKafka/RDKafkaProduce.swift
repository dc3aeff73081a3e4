import CRdKafka

/// The one place records are handed to librdkafka (`rd_kafka_produceva`,
/// since the variadic `rd_kafka_producev` is not imported into Swift).
enum RDKafkaProduce {
    /// Enqueues a copy of the message (RD_KAFKA_MSG_F_COPY); `id` comes back
    /// in the delivery report as the message opaque.
    static func produce(_ handle: OpaquePointer, _ message: KafkaProducerMessage, id: UInt) -> rd_kafka_resp_err_t {
        message.topic.withCString { topic in
            message.value.withUnsafeBytes { value in
                withOptionalBytes(message.key) { key in
                    withHeaderStorage(message.headers) { headerStorage in
                        var values: [rd_kafka_vu_t] = []
                        values.reserveCapacity(7 + message.headers.count)
                        values.append(vu(RD_KAFKA_VTYPE_TOPIC) { $0.cstr = topic })
                        if let partition = message.partition {
                            values.append(vu(RD_KAFKA_VTYPE_PARTITION) { $0.i32 = partition })
                        }
                        values.append(vu(RD_KAFKA_VTYPE_VALUE) {
                            $0.mem.ptr = UnsafeMutableRawPointer(mutating: value.baseAddress)
                            $0.mem.size = value.count
                        })
                        if let key {
                            values.append(vu(RD_KAFKA_VTYPE_KEY) {
                                // A zero-length key is still a key: give it a non-nil pointer.
                                $0.mem.ptr = UnsafeMutableRawPointer(mutating: key.baseAddress ?? UnsafeRawPointer(topic))
                                $0.mem.size = key.count
                            })
                        }
                        if let timestamp = message.timestamp {
                            values.append(vu(RD_KAFKA_VTYPE_TIMESTAMP) { $0.i64 = timestamp })
                        }
                        values.append(vu(RD_KAFKA_VTYPE_MSGFLAGS) { $0.i = RD_KAFKA_MSG_F_COPY })
                        values.append(vu(RD_KAFKA_VTYPE_OPAQUE) { $0.ptr = UnsafeMutableRawPointer(bitPattern: id) })
                        for (index, header) in message.headers.enumerated() {
                            let (name, bytes) = headerStorage[index]
                            values.append(vu(RD_KAFKA_VTYPE_HEADER) {
                                $0.header.name = name
                                $0.header.val = bytes.map { UnsafeRawPointer($0.baseAddress ?? UnsafeRawPointer(name)) }
                                $0.header.size = header.value?.count ?? 0
                            })
                        }
                        guard let failure = rd_kafka_produceva(handle, values, values.count) else {
                            return RD_KAFKA_RESP_ERR_NO_ERROR
                        }
                        let code = rd_kafka_error_code(failure)
                        rd_kafka_error_destroy(failure)
                        return code
                    }
                }
            }
        }
    }

    private static func vu(_ type: rd_kafka_vtype_t, _ fill: (inout rd_kafka_vu_t.__Unnamed_union_u) -> Void) -> rd_kafka_vu_t {
        var value = rd_kafka_vu_t()
        value.vtype = type
        fill(&value.u)
        return value
    }

    private static func withOptionalBytes<R>(_ bytes: [UInt8]?, _ body: (UnsafeRawBufferPointer?) -> R) -> R {
        guard let bytes else { return body(nil) }
        return bytes.withUnsafeBytes { body($0) }
    }

    /// Copies header names (NUL-terminated) and values into buffers that
    /// live until `body` returns; librdkafka copies them during produceva.
    private static func withHeaderStorage<R>(
        _ headers: [KafkaHeader], _ body: ([(UnsafePointer<CChar>, UnsafeRawBufferPointer?)]) -> R
    ) -> R {
        guard !headers.isEmpty else { return body([]) }
        var buffers: [UnsafeMutableRawBufferPointer] = []
        defer { buffers.forEach { $0.deallocate() } }
        var storage: [(UnsafePointer<CChar>, UnsafeRawBufferPointer?)] = []
        for header in headers {
            let nameBytes = Array(header.name.utf8) + [0]
            let nameBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: nameBytes.count, alignment: 1)
            nameBuffer.copyBytes(from: nameBytes)
            buffers.append(nameBuffer)
            // A buffer of at least one byte always has a base address.
            guard let nameBase = nameBuffer.baseAddress else { continue }
            let name = UnsafePointer(nameBase.assumingMemoryBound(to: CChar.self))
            var value: UnsafeRawBufferPointer?
            if let bytes = header.value {
                let valueBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(1, bytes.count), alignment: 1)
                valueBuffer.copyBytes(from: bytes)
                buffers.append(valueBuffer)
                value = UnsafeRawBufferPointer(valueBuffer)
            }
            storage.append((name, value))
        }
        return body(storage)
    }
}
