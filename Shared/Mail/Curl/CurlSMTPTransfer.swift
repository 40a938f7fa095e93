import CCurl
import Foundation

/// One SMTP transaction through libcurl's easy interface (blocking; dispatch threads only).
enum CurlSMTPTransfer {
    private static let globalInit: Void = { curl_global_init(Int(CURL_GLOBAL_DEFAULT)) }()

    /// The message bytes libcurl pulls through the read callback.
    final class Upload {
        let bytes: [UInt8]
        var offset = 0
        init(_ bytes: [UInt8]) { self.bytes = bytes }
    }

    static func perform(settings: SMTPClient.Settings, from: String, recipients: [String], body: [UInt8]) -> SMTPClient.Outcome {
        _ = globalInit
        guard let handle = curl_easy_init() else { return .failed(code: nil, message: "libcurl could not start a transfer") }
        defer { curl_easy_cleanup(handle) }
        var list: UnsafeMutablePointer<curl_slist>?
        for recipient in recipients { list = curl_slist_append(list, "<\(recipient)>") }
        defer { curl_slist_free_all(list) }
        let upload = Upload(body)
        let context = Unmanaged.passRetained(upload)
        defer { context.release() }
        var errorBuffer = [CChar](repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)

        let timeout = Int(settings.timeout.components.seconds)
        let security: Int = switch settings.security {
        case .none: Int(CURLUSESSL_NONE.rawValue)
        case .optional: Int(CURLUSESSL_TRY.rawValue)
        case .required: Int(CURLUSESSL_ALL.rawValue)
        }
        let result: CURLcode = errorBuffer.withUnsafeMutableBufferPointer { buffer in
            coalition_curl_setopt_pointer(handle, CURLOPT_ERRORBUFFER, buffer.baseAddress)
            coalition_curl_setopt_string(handle, CURLOPT_URL, settings.url)
            coalition_curl_setopt_long(handle, CURLOPT_USE_SSL, security)
            coalition_curl_setopt_string(handle, CURLOPT_MAIL_FROM, "<\(from)>")
            coalition_curl_setopt_pointer(handle, CURLOPT_MAIL_RCPT, UnsafeMutableRawPointer(list))
            coalition_curl_setopt_long(handle, CURLOPT_UPLOAD, 1)
            coalition_curl_setopt_long(handle, CURLOPT_INFILESIZE_LARGE, body.count)
            coalition_curl_setopt_long(handle, CURLOPT_TIMEOUT, timeout)
            coalition_curl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT, min(timeout, 10))
            coalition_curl_setopt_long(handle, CURLOPT_NOSIGNAL, 1)
            if let username = settings.username { coalition_curl_setopt_string(handle, CURLOPT_USERNAME, username) }
            if let password = settings.password { coalition_curl_setopt_string(handle, CURLOPT_PASSWORD, password) }
            coalition_curl_setopt_pointer(handle, CURLOPT_READDATA, context.toOpaque())
            coalition_curl_setopt_read_function(handle) { buffer, size, count, context in
                guard let buffer, let context else { return 0 }
                let upload = Unmanaged<Upload>.fromOpaque(context).takeUnretainedValue()
                let length = min(size * count, upload.bytes.count - upload.offset)
                guard length > 0 else { return 0 }
                upload.bytes.withUnsafeBufferPointer { source in
                    UnsafeMutableRawPointer(buffer).copyMemory(from: source.baseAddress! + upload.offset, byteCount: length)
                }
                upload.offset += length
                return length
            }
            return curl_easy_perform(handle)
        }
        var code = 0
        coalition_curl_response_code(handle, &code)
        guard result != CURLE_OK else { return .sent(code: code) }
        let detail = String(decoding: errorBuffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let message = detail.isEmpty ? String(cString: curl_easy_strerror(result)) : detail
        if code >= 500 { return .rejected(code: code, message: "SMTP \(code): \(message)") }
        return .failed(code: code == 0 ? nil : code, message: message)
    }
}
