import CRdKafka
import Foundation

extension RDKafkaClient {
    /// Routes logs, errors and rebalances to the consumer queue, which the consume loop serves.
    func redirectMainQueueToConsumer() {
        rd_kafka_poll_set_consumer(rk)
    }

    func subscribe(topics: [String]) throws(KafkaError) {
        let list = RDKafkaTopicPartitionList(capacity: topics.count)
        for topic in topics { list.add(topic: topic, partition: RD_KAFKA_PARTITION_UA) }
        let result = rd_kafka_subscribe(rk, list.pointer)
        if result != RD_KAFKA_RESP_ERR_NO_ERROR {
            throw KafkaError(.subscribeFailed, RDKafkaError.describe(result), brokerCode: RDKafkaError.name(result))
        }
    }

    /// Fetches up to `maximum` messages, waiting at most `timeoutMs` for the first one (blocking;
    /// consume thread only). Also serves rebalance, log and error callbacks. Consumer errors
    /// (e.g. an unknown topic) are returned separately so the loop can log them and continue.
    ///
    /// `rd_kafka_consume_batch_queue` waits for a *full* batch until its timeout, which would
    /// hold a trickle of records back for the whole timeout. So: wait for one record, then take
    /// whatever else is already fetched without waiting.
    func consumeBatch(maximum: Int, timeoutMs: Int32) -> (messages: [KafkaMessage], errors: [KafkaError]) {
        guard let queue = rd_kafka_queue_get_consumer(rk) else { return ([], []) }
        defer { rd_kafka_queue_destroy(queue) }
        var buffer = [UnsafeMutablePointer<rd_kafka_message_t>?](repeating: nil, count: maximum)
        let first = rd_kafka_consume_batch_queue(queue, timeoutMs, &buffer, 1)
        guard first > 0 else { return ([], []) }
        let rest = maximum > 1 ? buffer.withUnsafeMutableBufferPointer { pointer in
            rd_kafka_consume_batch_queue(queue, 0, pointer.baseAddress! + 1, maximum - 1)
        } : 0
        let count = first + max(rest, 0)
        var messages: [KafkaMessage] = []
        messages.reserveCapacity(count)
        var errors: [KafkaError] = []
        for index in 0..<count {
            guard let raw = buffer[index] else { continue }
            defer { rd_kafka_message_destroy(raw) }
            let message = raw.pointee
            if message.err != RD_KAFKA_RESP_ERR_NO_ERROR {
                // Reaching the end of a partition is informational, not an error.
                if message.err != RD_KAFKA_RESP_ERR__PARTITION_EOF {
                    errors.append(KafkaError(.consumeFailed, RDKafkaError.describe(message.err), brokerCode: RDKafkaError.name(message.err)))
                }
                continue
            }
            messages.append(Self.read(raw))
        }
        return (messages, errors)
    }

    private static func read(_ raw: UnsafeMutablePointer<rd_kafka_message_t>) -> KafkaMessage {
        let message = raw.pointee
        let topic = message.rkt.map { String(cString: rd_kafka_topic_name($0)) } ?? ""
        let value = message.payload.map { Array(UnsafeRawBufferPointer(start: $0, count: message.len)) } ?? []
        let key = message.key.map { Array(UnsafeRawBufferPointer(start: $0, count: message.key_len)) }
        var headers: [KafkaHeader] = []
        var headerList: OpaquePointer?
        if rd_kafka_message_headers(raw, &headerList) == RD_KAFKA_RESP_ERR_NO_ERROR, let headerList {
            var index = 0
            var name: UnsafePointer<CChar>?
            var valuePointer: UnsafeRawPointer?
            var size = 0
            while rd_kafka_header_get_all(headerList, index, &name, &valuePointer, &size) == RD_KAFKA_RESP_ERR_NO_ERROR {
                let headerValue = valuePointer.map { Array(UnsafeRawBufferPointer(start: $0, count: size)) }
                headers.append(KafkaHeader(key: name.map { String(cString: $0) } ?? "", value: headerValue))
                index += 1
            }
        }
        var timestampType = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE
        let milliseconds = rd_kafka_message_timestamp(raw, &timestampType)
        let timestamp = milliseconds >= 0 ? Date(timeIntervalSince1970: Double(milliseconds) / 1000) : nil
        return KafkaMessage(
            topic: topic, partition: message.partition, offset: message.offset,
            key: key, value: value, headers: headers, timestamp: timestamp)
    }

    /// Marks offsets (already +1: the next offset to read) as ready for the next commit.
    func storeOffsets(_ offsets: [KafkaTopicPartition: Int64]) throws(KafkaError) {
        let list = RDKafkaTopicPartitionList(capacity: offsets.count)
        for (partition, offset) in offsets { list.add(topic: partition.topic, partition: partition.partition, offset: offset) }
        let result = rd_kafka_offsets_store(rk, list.pointer)
        // _STATE: the partition was revoked meanwhile; its new owner will see the record again.
        if result != RD_KAFKA_RESP_ERR_NO_ERROR && result != RD_KAFKA_RESP_ERR__STATE {
            throw KafkaError(.offsetStoreFailed, RDKafkaError.describe(result), brokerCode: RDKafkaError.name(result))
        }
    }

    /// Commits stored offsets synchronously (blocking).
    func commitStored() throws(KafkaError) {
        let result = rd_kafka_commit(rk, nil, 0)
        if result != RD_KAFKA_RESP_ERR_NO_ERROR && result != RD_KAFKA_RESP_ERR__NO_OFFSET {
            throw KafkaError(.commitFailed, RDKafkaError.describe(result), brokerCode: RDKafkaError.name(result))
        }
    }

    /// Current assignment.
    func assignment() -> [KafkaTopicPartition] {
        var list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?
        guard rd_kafka_assignment(rk, &list) == RD_KAFKA_RESP_ERR_NO_ERROR, let list else { return [] }
        defer { rd_kafka_topic_partition_list_destroy(list) }
        return RDKafkaTopicPartitionList.read(list)
    }

    /// Pauses or resumes fetching of the given partitions (back-pressure).
    func setPaused(_ paused: Bool, partitions: [KafkaTopicPartition]) {
        guard !partitions.isEmpty else { return }
        let list = RDKafkaTopicPartitionList(capacity: partitions.count)
        for partition in partitions { list.add(topic: partition.topic, partition: partition.partition) }
        _ = paused ? rd_kafka_pause_partitions(rk, list.pointer) : rd_kafka_resume_partitions(rk, list.pointer)
    }

    /// Leaves the group (revoking partitions, which commits stored offsets). Blocking.
    func closeConsumer() {
        _ = rd_kafka_consumer_close(rk)
    }

    /// Committed offsets of the group for the given partitions (blocking).
    func committedOffsets(_ partitions: [KafkaTopicPartition], timeoutMs: Int32) throws(KafkaError) -> [KafkaTopicPartition: Int64] {
        let list = RDKafkaTopicPartitionList(capacity: partitions.count)
        for partition in partitions { list.add(topic: partition.topic, partition: partition.partition) }
        let result = rd_kafka_committed(rk, list.pointer, timeoutMs)
        guard result == RD_KAFKA_RESP_ERR_NO_ERROR else {
            throw KafkaError(.commitFailed, RDKafkaError.describe(result), brokerCode: RDKafkaError.name(result))
        }
        var offsets: [KafkaTopicPartition: Int64] = [:]
        guard let elements = list.pointer.pointee.elems else { return offsets }
        for index in 0..<Int(list.pointer.pointee.cnt) {
            let element = elements[index]
            offsets[KafkaTopicPartition(topic: String(cString: element.topic), partition: element.partition)] = element.offset
        }
        return offsets
    }
}
