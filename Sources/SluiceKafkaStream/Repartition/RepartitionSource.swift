import Logging
import Sluice
import SluiceKafka
import Synchronization

/// The input of a repartition's second stage: a Kafka direct stream of the
/// repartition topic, made once the topic exists (it is ensured at start),
/// every partition a task.
final class RepartitionSource: InputSource {
    typealias Element = KafkaRecord
    typealias Plan = KafkaBatchPlan

    let topic: RepartitionTopic
    /// The stream's settings; `subscription` is replaced by the topic's
    /// partitions when `assignsAll` (the upstream reads without a group).
    let configuration: KafkaSourceConfiguration
    let assignsAll: Bool

    private struct State {
        var inner: KafkaDirectSource?
        var hooks: TaskHooks?
        var resumed: [SourceOffset] = []
    }

    private let state = Mutex(State())

    init(topic: RepartitionTopic, configuration: KafkaSourceConfiguration, assignsAll: Bool) {
        self.topic = topic
        self.configuration = configuration
        self.assignsAll = assignsAll
    }

    var name: String { "repartition \(topic.name)" }
    var supportsReplay: Bool { true }
    var partitionsAreTasks: Bool { true }
    var isInternal: Bool { true }

    func setTaskHooks(_ hooks: TaskHooks) { state.withLock { $0.hooks = hooks } }
    func resume(from offsets: [SourceOffset]) { state.withLock { $0.resumed = offsets } }

    func start(_ context: SourceContext) async throws {
        let topic = self.topic
        let partitions = try await KafkaBlocking.run { try topic.ensure(logger: context.logger) }
        var configuration = self.configuration
        if assignsAll {
            configuration.subscription = .partitions((0..<partitions).map { KafkaTopicPartition(topic: topic.name, partition: $0) })
        }
        let inner = KafkaDirectSource(configuration: configuration)
        let (hooks, resumed) = state.withLock { state -> (TaskHooks?, [SourceOffset]) in
            state.inner = inner
            return (state.hooks, state.resumed)
        }
        if let hooks { inner.setTaskHooks(hooks) }
        if !resumed.isEmpty { inner.resume(from: resumed) }
        try await inner.start(context)
    }

    private var inner: KafkaDirectSource {
        get throws {
            guard let inner = state.withLock({ $0.inner }) else {
                throw StreamingError(code: .sourceFailed, message: "\(name) was used before it started")
            }
            return inner
        }
    }

    func plan(_ context: PlanningContext) async throws -> KafkaBatchPlan { try await inner.plan(context) }
    func read(_ plan: KafkaBatchPlan) async throws -> Batch<KafkaRecord> { try await inner.read(plan) }
    func stop() async { await state.withLock { $0.inner }?.stop() }
}
