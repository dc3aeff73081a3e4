extension StreamingContext {
    /// Starts generating and running batches; returns at once.
    ///
    /// The first batch runs at the first multiple of the batch interval after
    /// now; for a job an exactly-once output recovered, at the first time
    /// after now on the batch grid of the job's first run, so that windows
    /// sliding by more than one batch keep their times. Sources are started
    /// asynchronously; a source that fails to start stops the context and
    /// its error is thrown by `awaitTermination()`.
    ///
    /// - Throws: `alreadyStarted` if running, `alreadyStopped` if stopped,
    ///   `noOutputOperations` if no output is registered, `invalidDuration`
    ///   or `foreignStream` if the graph is inconsistent.
    public func start() throws {
        let action = lifecycle.withLock { $0.start() }
        switch action {
        case .throwError(let error):
            throw error
        case .startScheduler:
            break
        }
        let startTime: Time
        var controllers: [Int: RateController] = [:]
        do {
            startTime = try graph.freeze(now: clock.now())
            if configuration.backpressure.isEnabled {
                for input in graph.inputs {
                    let estimator = try PIDRateEstimator(
                        batchInterval: batchInterval, parameters: configuration.backpressure.pid)
                    controllers[input.id] = RateController(
                        estimator: estimator, initialRate: configuration.backpressure.initialRate)
                }
            }
        } catch let error as StreamingError {
            // The context never ran: it ends, and may not be started again.
            _ = lifecycle.withLock { $0.fail(error) }
            finishTermination()
            throw error
        }
        let scheduler = Scheduler(
            graph: graph, clock: clock, listeners: listeners, rateControllers: controllers,
            planRecorder: configuration.planRecorder, metricsFactory: configuration.metricsFactory,
            contextID: ObjectIdentifier(self),
            onFailure: { [weak self] error in self?.fail(error) },
            onTerminated: { [weak self] in self?.finishTermination() })
        listeners.add(MetricsListener(factory: configuration.metricsFactory))
        self.scheduler.withLock { $0 = scheduler }
        scheduler.start(startTime: startTime)
    }

    /// Stops the context and waits until it has stopped.
    ///
    /// - Parameter graceful: true: stop planning new batches, run every batch
    ///   already planned (its data was taken from the sources), then stop.
    ///   false: the batch in progress completes all its output operations
    ///   (no half batch is output); queued batches are dropped.
    ///
    /// Called from inside an output operation, it requests the stop and
    /// returns without waiting (the running batch cannot wait for itself).
    public func stop(graceful: Bool = false) async {
        let action = lifecycle.withLock { $0.stop(graceful: graceful) }
        switch action {
        case .finished(let waiters):
            graph.clear()
            for waiter in waiters { waiter.resume() }
            return
        case .stopScheduler(let graceful):
            scheduler.withLock { $0 }?.stop(graceful: graceful)
        case .waitForTermination:
            break
        }
        if ExecutingBatch.contextID == ObjectIdentifier(self) { return }
        try? await awaitTermination()
    }

    /// Waits until the context has stopped. Rethrows the error that stopped
    /// it, if a batch or a source failed.
    public func awaitTermination() async throws {
        let id = waiterIDs.withLock { id -> Int in
            id += 1
            return id
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let action = lifecycle.withLock { $0.addWaiter(id: id, continuation) }
                switch action {
                case .suspended:
                    // Cancelled before the waiter was registered: onCancel found nothing to resume.
                    if Task.isCancelled, let waiter = lifecycle.withLock({ $0.removeWaiter(id: id) }) {
                        waiter.resume(throwing: CancellationError())
                    }
                case .resume(let failure):
                    if let failure {
                        continuation.resume(throwing: failure)
                    } else {
                        continuation.resume()
                    }
                }
            }
        } onCancel: {
            let waiter = lifecycle.withLock { $0.removeWaiter(id: id) }
            waiter?.resume(throwing: CancellationError())
        }
    }

    /// Waits until the context has stopped or `timeout` (real time) passed.
    ///
    /// - Returns: true if the context stopped, false on timeout.
    public func awaitTermination(timeout: Duration) async throws -> Bool {
        try await withThrowingTaskGroup(of: Bool.self) { group in
            group.addTask {
                try await self.awaitTermination()
                return true
            }
            group.addTask {
                try await Task.sleep(for: timeout)
                return false
            }
            defer { group.cancelAll() }
            return try await group.next() ?? false
        }
    }

    func fail(_ error: StreamingError) {
        let action = lifecycle.withLock { $0.fail(error) }
        graph.logger.error("streaming context stopping after a failure: \(error)")
        if case .stopScheduler = action {
            scheduler.withLock { $0 }?.stop(graceful: false)
        }
    }

    func finishTermination() {
        let (waiters, failure) = lifecycle.withLock { $0.schedulerTerminated() }
        graph.clear()
        listeners.post { $0.streamingStopped(failure: failure) }
        for waiter in waiters {
            if let failure {
                waiter.resume(throwing: failure)
            } else {
                waiter.resume()
            }
        }
    }
}
