import SluiceKafka
import XCTest
@testable import SluiceKafkaStream

/// The consumer settings the direct stream derives from its configuration.
final class SourceConsumerSettingsTests: XCTestCase {
    private func configuration() -> KafkaSourceConfiguration {
        KafkaSourceConfiguration(bootstrapServers: "127.0.0.1:9", subscription: .topics(["t"]), groupID: "g")
    }

    func testLibrdkafkasQueueIsSmallBecauseTheStreamKeepsItsOwnReadAhead() {
        let properties = configuration().effectiveConsumerConfiguration.additionalProperties
        XCTAssertEqual(properties["queued.max.messages.kbytes"], String(KafkaSourceConfiguration.librdkafkaQueueKilobytes))
        XCTAssertLessThan(KafkaSourceConfiguration.librdkafkaQueueKilobytes, 65_536, "below librdkafka's default of 64 MB")
    }

    func testAQueueSizeTheUserSetIsKept() {
        var source = configuration()
        source.consumer.additionalProperties["queued.max.messages.kbytes"] = "1024"
        XCTAssertEqual(source.effectiveConsumerConfiguration.additionalProperties["queued.max.messages.kbytes"], "1024")
    }

    func testTheQueueSettingIsAcceptedByLibrdkafka() throws {
        let consumer = try KafkaConsumer(configuration: configuration().effectiveConsumerConfiguration)
        try consumer.close()
    }
}
