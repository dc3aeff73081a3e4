import Sluice
import Testing

/// DESIGN.md's NetworkWordCount, line for line (plus `try` on the output,
/// which throws after start), against a port nothing listens on.
@Suite struct DesignExampleTests {
    @Test func networkWordCountReadsLikeSpark() async throws {
        let ssc = try StreamingContext(batchInterval: .seconds(1), configuration: .init(printSink: CapturingSink()))
        let lines = ssc.socketTextStream(host: "localhost", port: 9)
        let wordCounts = lines
            .flatMap { $0.split(separator: " ") }
            .map { (String($0), 1) }
            .reduceByKey(+)
        try wordCounts.print()
        try ssc.start()
        #expect(try await ssc.awaitTermination(timeout: .milliseconds(50)) == false)
        await ssc.stop()
        try await ssc.awaitTermination()
    }
}
