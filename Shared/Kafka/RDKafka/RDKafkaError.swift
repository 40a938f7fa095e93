import CRdKafka

enum RDKafkaError {
    static func name(_ code: rd_kafka_resp_err_t) -> String { String(cString: rd_kafka_err2name(code)) }
    static func describe(_ code: rd_kafka_resp_err_t) -> String { String(cString: rd_kafka_err2str(code)) }

    /// Converts an `rd_kafka_error_t` (freeing it) into our error.
    static func consume(_ error: OpaquePointer, code: KafkaError.Code) -> KafkaError {
        defer { rd_kafka_error_destroy(error) }
        return KafkaError(code, String(cString: rd_kafka_error_string(error)),
                          brokerCode: String(cString: rd_kafka_error_name(error)))
    }
}

extension RDKafkaError {
    /// The NUL-terminated message librdkafka wrote into `buffer`.
    static func message(in buffer: [CChar]) -> String {
        buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }
}
