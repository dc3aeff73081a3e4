import Logging
import Sluice
import SluiceKafka
import Synchronization

/// The internal topic of one repartition: `<group>-<name>-repartition`,
/// made at start with the input topic's partition count and lz4 when it
/// does not exist. Its partition count is read once and fixed for the run.
final class RepartitionTopic: Sendable {
    let name: String
    let input: String
    let bootstrapServers: String
    /// How the topic administration reaches the cluster (the job's consumer's).
    let security: KafkaSecurityOptions
    private let partitions = Mutex<Int32?>(nil)

    init(name: String, input: String, bootstrapServers: String, security: KafkaSecurityOptions = KafkaSecurityOptions()) {
        self.name = name
        self.input = input
        self.bootstrapServers = bootstrapServers
        self.security = security
    }

    /// The topic's partition count, creating the topic first if needed. *Blocking*.
    func ensure(logger: Logger) throws -> Int32 {
        if let known = partitions.withLock({ $0 }) { return known }
        let admin = try KafkaAdmin(bootstrapServers: bootstrapServers, security: security, logger: logger)
        let count: Int32
        if let existing = try? admin.describeTopic(name) {
            count = Int32(existing.partitions.count)
        } else {
            let inputPartitions = Int32(try admin.describeTopic(input).partitions.count)
            do {
                try admin.createTopic(name, partitions: inputPartitions, config: ["compression.type": "lz4"], timeout: .seconds(10))
                logger.info("created repartition topic \(name) with \(inputPartitions) partitions")
            } catch let error as KafkaError where error.code == .topicAlreadyExists {
                // Another process of the job created it meanwhile.
            } catch {
                throw StreamingError(
                    code: .invalidArgument,
                    message: "the repartition topic '\(name)' does not exist and could not be created (\(error)); create it with "
                        + "\(inputPartitions) partitions, as many as '\(input)' has (on the embedded cluster: sluice broker --topic \(name):\(inputPartitions))")
            }
            count = Int32(try admin.describeTopic(name).partitions.count)
        }
        partitions.withLock { $0 = count }
        return count
    }

    /// The partition count `ensure` found.
    var partitionCount: Int32? { partitions.withLock { $0 } }
}
