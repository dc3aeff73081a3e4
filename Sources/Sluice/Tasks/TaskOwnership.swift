import Logging
import Metrics

/// The tasks of a job this process owns (DESIGN.md, "Scale-out"), kept by
/// the job's exactly-once output: each task is claimed in the store when an
/// input opens it (fencing its previous owner), its state restored under its
/// claim (``TaskKey``), and dropped when it is closed or a commit for it is
/// refused.
///
/// A batch computes and commits the tasks that were open when its plan was
/// made and still are: a task closed since (revoked) or opened again since
/// (it came back) is left out of it, and its records are replayed by whoever
/// holds the task now. A task's state is dropped only between batches, so a
/// batch running when its task is revoked finishes and commits it; its
/// commit is refused if another process claimed the task first.
final class TaskOwnership: Sendable {
    let store: any ExactlyOnceStore
    let job: String
    let owner: JobOwner
    let logger: Logger
    /// The states of the job's stateful operators (restored per task).
    let states: [any PersistentOperatorState]
    /// Values operators keep per task besides their states.
    let perTaskValues: PerTaskRegistry

    private struct Open {
        var epoch: Int64
        /// The first batch planned with the task.
        var firstBatch: Time
    }

    private let opens = Locked<[TaskID: Open]>([:])
    /// Claims whose state is dropped before the next batch.
    private let closed = Locked<[TaskKey]>([])
    private let fencedCommits = Counter(label: "sluice_fenced_task_commits_total")
    private let ownedTasks = Gauge(label: "sluice_owned_tasks")
    private let rebalances = Counter(label: "sluice_rebalances_total")
    private let rebalancePause = Timer(label: "sluice_rebalance_pause_seconds")
    /// When tasks were last closed while none has been opened since: the
    /// start of a rebalance's pause.
    private let closedAt = Locked<ContinuousClock.Instant?>(nil)

    init(store: any ExactlyOnceStore, job: String, owner: JobOwner, logger: Logger,
         states: [any PersistentOperatorState], perTaskValues: PerTaskRegistry) {
        self.store = store
        self.job = job
        self.owner = owner
        self.logger = logger
        self.states = states
        self.perTaskValues = perTaskValues
    }

    /// The hooks the job's inputs call.
    var hooks: TaskHooks {
        TaskHooks(
            open: { [self] tasks, firstBatch in try await open(tasks, firstBatch: firstBatch) },
            close: { [self] tasks in close(tasks, reason: "revoked") })
    }

    /// Claims `tasks`, restores their state and returns their stored offsets.
    func open(_ tasks: [TaskID], firstBatch: Time) async throws -> [TaskID: Int64] {
        guard !tasks.isEmpty else { return [:] }
        let epochs = try await store.claim(job: job, tasks: tasks, owner: owner)
        let names = tasks.flatMap { task in states.map { task.stateName(of: $0.name) } }
        let recovered = try await store.recover(job: job, partitions: tasks, operators: names)
        var opened: [TaskID: Open] = [:]
        for task in tasks.sorted() {
            guard let epoch = epochs[task] else {
                throw StreamingError(code: .outputFailed, message: "job '\(job)': \(store.description) gave no claim for task \(task)")
            }
            try TaskScope.$current.withValue(TaskKey(task: task, epoch: epoch)) {
                for state in states {
                    try state.restore(from: recovered, storedName: task.stateName(of: state.name), job: job, store: store)
                }
            }
            opened[task] = Open(epoch: epoch, firstBatch: firstBatch)
        }
        let count = opens.withLock { opens in
            opens.merge(opened) { _, new in new }
            return opens.count
        }
        ownedTasks.record(count)
        if let closed = closedAt.withLock({ closed -> ContinuousClock.Instant? in defer { closed = nil }; return closed }) {
            let pause = ContinuousClock.now - closed
            rebalances.increment()
            rebalancePause.recordNanoseconds(pause.components.seconds * 1_000_000_000 + pause.components.attoseconds / 1_000_000_000)
            logger.info("job '\(job)': rebalance pause \(pause.wholeMilliseconds) ms (from tasks closed to tasks opened)")
        }
        var offsets: [TaskID: Int64] = [:]
        for offset in recovered.offsets { offsets[TaskID(topic: offset.topic, partition: offset.partition)] = offset.offset }
        logger.info("job '\(job)': opened tasks \(opened.keys.sorted().map { "\($0) (claim \(opened[$0]!.epoch), from offset \(offsets[$0].map(String.init) ?? "the start position"))" }.joined(separator: ", ")); \(count) tasks owned")
        return offsets
    }

    /// Ends the ownership of `tasks`; their state goes before the next batch.
    func close(_ tasks: [TaskID], reason: String) {
        let (keys, count) = opens.withLock { opens -> ([TaskKey], Int) in
            let keys = tasks.compactMap { task in opens.removeValue(forKey: task).map { TaskKey(task: task, epoch: $0.epoch) } }
            return (keys, opens.count)
        }
        guard !keys.isEmpty else { return }
        closed.withLock { $0.append(contentsOf: keys) }
        closedAt.withLock { $0 = $0 ?? ContinuousClock.now }
        ownedTasks.record(count)
        logger.info("job '\(job)': closed tasks \(keys.map(\.task.description).sorted().joined(separator: ", ")) (\(reason)); \(count) tasks owned")
    }

    /// Drops the state of closed tasks; called between batches.
    func dropClosed() {
        let keys = closed.withLock { closed -> [TaskKey] in
            defer { closed = [] }
            return closed
        }
        for key in keys {
            for state in states { state.drop(key) }
            perTaskValues.drop(key)
        }
    }

    /// The claims under which the batch at `time` computes its tasks: those
    /// of `ranges` open since the batch was planned, with their ranges.
    func claims(for ranges: [OffsetRange], at time: Time) -> [(key: TaskKey, ranges: [OffsetRange])] {
        let byTask = Dictionary(grouping: ranges, by: TaskID.init)
        return opens.withLock { opens in
            byTask.keys.sorted().compactMap { task in
                guard let open = opens[task], open.firstBatch <= time else { return nil }
                return (TaskKey(task: task, epoch: open.epoch), byTask[task] ?? [])
            }
        }
    }

    /// Commits the store refused: those tasks belong to other processes now.
    /// Throws `fenced` when this process is left without any task.
    func refused(_ fenced: [FencedTask], batchTime: Time) throws {
        guard !fenced.isEmpty else { return }
        fencedCommits.increment(by: fenced.count)
        logger.warning("job '\(job)': batch \(batchTime) was not committed for tasks \(fenced.map(\.description).joined(separator: ", ")): another process claimed them; this process drops them")
        close(fenced.map(\.task), reason: "fenced")
        if opens.withLock({ $0.isEmpty }) {
            throw StreamingError(
                code: .fenced,
                message: "job '\(job)': every task of this process is now held by another process (\(fenced.map(\.description).joined(separator: ", "))): "
                    + "batch \(batchTime) was not committed for them and this process stops")
        }
    }
}

extension TaskID {
    /// The name a task's state of `operatorName` is stored under.
    func stateName(of operatorName: String) -> String { "\(operatorName)@\(self)" }
}
