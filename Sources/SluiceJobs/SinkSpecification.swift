import Sluice
import SluiceKafka
import SluiceKafkaSink
import SluicePostgres
import SluiceSQLite

/// Where a job's exactly-once results go, as written on the command line:
/// `sqlite:FILE` (the embedded default) or `postgres:URL`, the URL being
/// `postgres://user@host:port/database` (the password from `--sink-password-file`
/// or `SLUICE_SINK_PASSWORD`; see ``resolvingPassword(file:environment:)``).
public enum SinkSpecification: Sendable, Hashable, CustomStringConvertible {
    case sqlite(path: String)
    case postgres(url: String)
    /// Results to this Kafka topic, through transactions, with a changelog
    /// topic `<topic>-changelog`; the cluster is the job's.
    case kafka(topic: String)

    /// The accepted forms, for messages and help.
    public static let forms = "sqlite:FILE, postgres:postgres://user@host:port/database[?sslmode=…] or kafka:TOPIC"

    /// Parses `sqlite:FILE` or `postgres:URL`; throws naming the accepted forms.
    public init(_ text: String) throws {
        if text.hasPrefix("sqlite:"), text.count > "sqlite:".count {
            self = .sqlite(path: String(text.dropFirst("sqlite:".count)))
            return
        }
        if text.hasPrefix("postgres:"), text.count > "postgres:".count {
            let url = String(text.dropFirst("postgres:".count))
            _ = try PostgresStoreConfiguration(url: url)
            self = .postgres(url: url)
            return
        }
        if text.hasPrefix("kafka:"), text.count > "kafka:".count {
            self = .kafka(topic: String(text.dropFirst("kafka:".count)))
            return
        }
        throw StreamingError(code: .invalidArgument, message: "sink '\(text)' is not understood; use \(Self.forms)")
    }

    /// The sink as written, the password hidden.
    public var description: String {
        switch self {
        case .sqlite(let path): return "sqlite:\(path)"
        case .postgres(let url): return (try? PostgresStoreConfiguration(url: url)).map { "postgres:\($0.displayURL)" } ?? "postgres:\(url)"
        case .kafka(let topic): return "kafka:\(topic)"
        }
    }

    /// Opens the store; a Kafka sink writes to `kafkaBootstrapServers`,
    /// connecting with `kafka`'s security settings and properties.
    public func open(kafkaBootstrapServers: String? = nil, kafka: KafkaConnectionSettings = KafkaConnectionSettings()) throws -> any ExactlyOnceStore {
        switch self {
        case .sqlite(let path): return try SQLiteStore(path: path)
        case .postgres(let url): return try PostgresStore(url: url)
        case .kafka(let topic):
            guard let kafkaBootstrapServers else {
                throw StreamingError(code: .invalidArgument, message: "the kafka:\(topic) sink needs the cluster's bootstrap servers (--bootstrap)")
            }
            var configuration = KafkaTransactionalStore.Configuration(bootstrapServers: kafkaBootstrapServers, outputTopic: topic)
            var producer = KafkaProducerConfiguration(bootstrapServers: kafkaBootstrapServers)
            kafka.apply(to: &producer)
            configuration.producer = producer
            return KafkaTransactionalStore(configuration: configuration)
        }
    }
}
