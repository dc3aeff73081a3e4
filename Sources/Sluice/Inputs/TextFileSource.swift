import Foundation
import Logging

/// New text files in a directory (Spark's `textFileStream`): each batch
/// takes the files that appeared since the previous batch, one partition per
/// file, one element per line. Files must be moved in atomically (write
/// elsewhere, then rename into the directory). Names starting with `.` or
/// `_` are ignored; with `newFilesOnly`, so are the files present when the
/// source is created (i.e. when `textFileStream` is called).
/// A file is taken once, by name. Invalid UTF-8 lines are skipped, counted
/// and logged with file and line number.
public final class TextFileSource: InputSource {
    public struct Plan: InputPlan {
        /// The files the batch reads, in name order.
        public let files: [URL]
    }

    public let directory: URL
    public let newFilesOnly: Bool
    public var name: String { "files \(directory.path)" }

    private struct State {
        var seen: Set<String> = []
        var undecodable = 0
        var counter: UndecodableRecordCounter?
        var logger = Logger(label: "sluice.files")
    }

    private let state = Locked(State())

    public init(directory: URL, newFilesOnly: Bool = true) {
        self.directory = directory
        self.newFilesOnly = newFilesOnly
        if newFilesOnly, let existing = try? listFiles() {
            state.withLock { $0.seen.formUnion(existing) }
        }
    }

    /// Lines skipped because they were not valid UTF-8.
    public var undecodableLines: Int { state.withLock { $0.undecodable } }

    public func start(_ context: SourceContext) async throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw StreamingError(
                code: .sourceFailed,
                message: "textFileStream directory \(directory.path) does not exist or is not a directory; create it before starting the context")
        }
        state.withLock { state in
            state.counter = context.undecodable
            state.logger = context.logger
        }
    }

    public func plan(_ context: PlanningContext) async throws -> Plan {
        let names = try listFiles()
        let fresh = state.withLock { state -> [String] in
            let fresh = names.filter { !state.seen.contains($0) }
            state.seen.formUnion(fresh)
            return fresh
        }
        return Plan(files: fresh.sorted().map { directory.appendingPathComponent($0) })
    }

    public func read(_ plan: Plan) async throws -> Batch<String> {
        guard !plan.files.isEmpty else { return .empty }
        let results = await Parallel.map(plan.files) { file -> Result<([String], [Int]), StreamingError> in
            guard let data = FileManager.default.contents(atPath: file.path) else {
                return .failure(StreamingError(
                    code: .io, message: "could not read \(file.path); files must stay in the directory until their batch has run"))
            }
            let chunk = LineChunk(bytes: [UInt8](data), connection: 1, firstLine: 1, firstByteOffset: 0, lineCount: 0)
            var lines: [String] = []
            var bad: [Int] = []
            chunk.forEachLine { bytes, number, _ in
                if let line = decodeUTF8Line(bytes) { lines.append(line) } else { bad.append(number) }
            }
            return .success((lines, bad))
        }
        var partitions: [Partition<String>] = []
        for (file, result) in zip(plan.files, results) {
            let (lines, bad) = try result.get()
            partitions.append(Partition(lines))
            if !bad.isEmpty { reportUndecodable(file: file, lines: bad) }
        }
        return Batch(partitions: partitions)
    }

    public func stop() async {}

    private func reportUndecodable(file: URL, lines: [Int]) {
        let (counter, logger) = state.withLock { state in
            state.undecodable += lines.count
            return (state.counter, state.logger)
        }
        counter?.record(lines.count)
        logger.warning("\(name): skipped \(lines.count) line(s) of \(file.lastPathComponent) that are not valid UTF-8 (line \(lines.prefix(10).map(String.init).joined(separator: ", ")))")
    }

    private func listFiles() throws -> [String] {
        do {
            return try FileManager.default.contentsOfDirectory(atPath: directory.path)
                .filter { !$0.hasPrefix(".") && !$0.hasPrefix("_") }
                .filter { name in
                    var isDirectory: ObjCBool = false
                    let path = directory.appendingPathComponent(name).path
                    return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && !isDirectory.boolValue
                }
        } catch {
            throw StreamingError(
                code: .io, message: "could not list \(directory.path): \(error.localizedDescription)", underlying: error)
        }
    }
}

extension StreamingContext {
    /// Lines of the files moved into `directory` (Spark's `textFileStream`).
    /// See `TextFileSource`.
    public func textFileStream(directory: String, newFilesOnly: Bool = true) -> DStream<String> {
        inputStream(TextFileSource(directory: URL(fileURLWithPath: directory), newFilesOnly: newFilesOnly))
    }
}
