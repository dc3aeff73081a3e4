import Logging
import Sluice
import SluiceKafka
@testable import SluiceKafkaStream
import XCTest

/// The repartition topic's administration and its producer connect with the
/// job's security settings (a TLS setting they cannot meet fails them, naming it).
final class RepartitionSecurityTests: XCTestCase {
    private let security = KafkaSecurityOptions(securityProtocol: .ssl, tls: KafkaTLSOptions(caFile: "/nonexistent/sluice-ca.pem"))
    private let logger = Logger(label: "sluice.tests.repartition")

    func testTopicAdministrationUsesTheJobsSecurity() {
        let topic = RepartitionTopic(name: "g-words-repartition", input: "words", bootstrapServers: "127.0.0.1:1", security: security)
        XCTAssertThrowsError(try topic.ensure(logger: logger)) { error in
            XCTAssertEqual((error as? KafkaError)?.setting, "security.tls.caFile", "\(error)")
        }
    }

    func testWriterProducerUsesTheJobsSecurity() async {
        let writer = RepartitionWriter(bootstrapServers: "127.0.0.1:1", security: security, logger: logger)
        do {
            _ = try await writer.write([], time: Time(milliseconds: 0))
            XCTFail("the producer started without its CA file")
        } catch {
            XCTAssertEqual((error as? KafkaError)?.setting, "security.tls.caFile", "\(error)")
        }
    }
}
