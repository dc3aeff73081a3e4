import Sluice
import XCTest

/// The in-memory state store's change tracking: nothing is recorded until
/// an exactly-once output asks for deltas, then exactly the written keys.
final class KeyValueStoreTests: XCTestCase {
    func testChangesAreRecordedOnlyOnceTrackingBegins() {
        let store = InMemoryKeyValueStore<String, Int>()
        for index in 0..<1_000 { store.put("k\(index)", index) }
        XCTAssertTrue(store.delta().isEmpty, "untracked writes leave no delta to grow without bound")

        store.beginChangeTracking(includeExisting: true)
        XCTAssertEqual(store.delta().upserts.count, 1_000, "what was held before tracking is the first change")
        store.markCommitted()
        XCTAssertTrue(store.delta().isEmpty)

        store.put("k1", 100)
        store.delete("k2")
        store.delete("absent")
        let delta = store.delta()
        XCTAssertEqual(delta.upserts.map(\.key), ["k1"])
        XCTAssertEqual(delta.upserts.map(\.value), [100])
        XCTAssertEqual(delta.deletes, ["k2"])
    }

    func testRestoreReplacesContentsAndLeavesNothingToCommit() {
        let store = InMemoryKeyValueStore<String, Int>()
        store.beginChangeTracking(includeExisting: false)
        store.put("old", 1)
        store.restore([(key: "a", value: 1), (key: "b", value: 2)])
        XCTAssertNil(store.get("old"))
        XCTAssertEqual(store.count, 2)
        XCTAssertTrue(store.delta().isEmpty)
        store.put("a", 3)
        XCTAssertEqual(store.delta().upserts.map(\.key), ["a"])
    }

    func testKeyedStateRoundTripsThroughItsEncoding() throws {
        let state = KeyedState<String, Int64>(name: "totals")
        state.store.put("word", 42)
        state.beginChangeTracking(includeExisting: true)
        let delta = try state.encodedDelta()
        let restored = KeyedState<String, Int64>(name: "totals")
        try restored.restore(delta.upserts)
        XCTAssertEqual(restored.store.get("word"), 42)
        XCTAssertEqual(restored.encoding, state.encoding)
        XCTAssertNotEqual(KeyedState<String, Double>(name: "totals").encoding, state.encoding, "a changed value type changes the encoding")
    }
}
