import CRdKafka

extension RDKafkaClient {
    /// Creates topics; an existing topic counts as success. Blocking.
    func createTopics(_ specs: [KafkaTopicSpec], timeoutMs: Int32) throws(KafkaError) -> [String: KafkaTopicCreation] {
        var errorBuffer = [CChar](repeating: 0, count: 512)
        var newTopics: [OpaquePointer?] = []
        defer { for topic in newTopics { rd_kafka_NewTopic_destroy(topic) } }
        for spec in specs {
            guard let topic = rd_kafka_NewTopic_new(spec.name, Int32(spec.partitions), Int32(spec.replicationFactor), &errorBuffer, errorBuffer.count) else {
                throw KafkaError(.admin, "\(spec.name): \(RDKafkaError.message(in: errorBuffer))")
            }
            newTopics.append(topic)
            for (key, value) in spec.configuration.sorted(by: { $0.key < $1.key }) {
                let result = rd_kafka_NewTopic_set_config(topic, key, value)
                if result != RD_KAFKA_RESP_ERR_NO_ERROR {
                    throw KafkaError(.admin, "\(spec.name) \(key): \(RDKafkaError.describe(result))")
                }
            }
        }
        guard let queue = rd_kafka_queue_new(rk) else { throw KafkaError(.admin, "rd_kafka_queue_new failed") }
        defer { rd_kafka_queue_destroy(queue) }
        let options = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS)
        defer { rd_kafka_AdminOptions_destroy(options) }
        _ = rd_kafka_AdminOptions_set_request_timeout(options, timeoutMs, &errorBuffer, errorBuffer.count)
        newTopics.withUnsafeMutableBufferPointer { buffer in
            rd_kafka_CreateTopics(rk, buffer.baseAddress, buffer.count, options, queue)
        }
        guard let event = rd_kafka_queue_poll(queue, timeoutMs + 1000) else {
            throw KafkaError(.timeout, "CreateTopics: no answer from the broker")
        }
        defer { rd_kafka_event_destroy(event) }
        let eventError = rd_kafka_event_error(event)
        if eventError != RD_KAFKA_RESP_ERR_NO_ERROR {
            throw KafkaError(.admin, String(cString: rd_kafka_event_error_string(event)), brokerCode: RDKafkaError.name(eventError))
        }
        guard let result = rd_kafka_event_CreateTopics_result(event) else {
            throw KafkaError(.admin, "CreateTopics: unexpected event")
        }
        var count = 0
        guard let topicResults = rd_kafka_CreateTopics_result_topics(result, &count) else { return [:] }
        var outcome: [String: KafkaTopicCreation] = [:]
        for index in 0..<count {
            let topicResult = topicResults[index]
            let name = String(cString: rd_kafka_topic_result_name(topicResult))
            let error = rd_kafka_topic_result_error(topicResult)
            switch error {
            case RD_KAFKA_RESP_ERR_NO_ERROR: outcome[name] = .created
            case RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS: outcome[name] = .alreadyExisted
            default:
                let message = rd_kafka_topic_result_error_string(topicResult).map { String(cString: $0) } ?? RDKafkaError.describe(error)
                throw KafkaError(.admin, "\(name): \(message)", brokerCode: RDKafkaError.name(error))
            }
        }
        return outcome
    }

    /// Deletes topics (blocking); a missing topic counts as success.
    func deleteTopics(_ names: [String], timeoutMs: Int32) throws(KafkaError) {
        var deleteTopics: [OpaquePointer?] = names.map { rd_kafka_DeleteTopic_new($0) }
        defer { for topic in deleteTopics { rd_kafka_DeleteTopic_destroy(topic) } }
        guard let queue = rd_kafka_queue_new(rk) else { throw KafkaError(.admin, "rd_kafka_queue_new failed") }
        defer { rd_kafka_queue_destroy(queue) }
        deleteTopics.withUnsafeMutableBufferPointer { buffer in
            rd_kafka_DeleteTopics(rk, buffer.baseAddress, buffer.count, nil, queue)
        }
        guard let event = rd_kafka_queue_poll(queue, timeoutMs) else {
            throw KafkaError(.timeout, "DeleteTopics: no answer from the broker")
        }
        defer { rd_kafka_event_destroy(event) }
        let eventError = rd_kafka_event_error(event)
        if eventError != RD_KAFKA_RESP_ERR_NO_ERROR {
            throw KafkaError(.admin, String(cString: rd_kafka_event_error_string(event)), brokerCode: RDKafkaError.name(eventError))
        }
    }
}
