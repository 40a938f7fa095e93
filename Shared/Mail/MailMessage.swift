import Foundation

/// An email as Coalition sends it: a plain-text and an HTML body (multipart/alternative) and
/// optional attachments (e.g. an `.ics` invitation), rendered as RFC 5322 / MIME with CRLF
/// line ends, UTF-8 text in base64 and encoded-word headers.
public struct MailMessage: Sendable, Equatable {
    public struct Attachment: Sendable, Equatable {
        public var filename: String
        /// The full Content-Type, parameters included (`text/calendar; method=REQUEST`).
        public var contentType: String
        public var data: [UInt8]

        public init(filename: String, contentType: String, data: [UInt8]) {
            self.filename = filename
            self.contentType = contentType
            self.data = data
        }
    }

    public var from: String
    public var to: [String]
    public var subject: String
    public var text: String
    public var html: String
    public var attachments: [Attachment]
    /// Stable across retries, so a mail system that deduplicates on it sees one message.
    public var messageID: String
    public var date: Date

    public init(from: String, to: [String], subject: String, text: String, html: String, attachments: [Attachment] = [],
                messageID: String, date: Date = Date()) {
        self.from = from
        self.to = to
        self.subject = subject
        self.text = text
        self.html = html
        self.attachments = attachments
        self.messageID = messageID
        self.date = date
    }

    /// The message source. Boundaries derive from the message id, so the bytes are the same on
    /// every attempt.
    public func rendered() -> [UInt8] {
        let mixed = "coalition-mixed-" + Self.token(messageID)
        let alternative = "coalition-alt-" + Self.token(messageID)
        var lines: [String] = [
            "From: \(from)",
            "To: \(to.joined(separator: ", "))",
            "Subject: \(Self.encodedWord(subject))",
            "Date: \(Self.rfc5322Date(date))",
            "Message-ID: <\(messageID)>",
            "MIME-Version: 1.0",
            "Content-Type: multipart/mixed; boundary=\"\(mixed)\"",
            "",
            "--\(mixed)",
            "Content-Type: multipart/alternative; boundary=\"\(alternative)\"",
            "",
            "--\(alternative)",
            "Content-Type: text/plain; charset=utf-8",
            "Content-Transfer-Encoding: base64",
            "",
        ]
        lines += Self.base64Lines(Array(text.utf8))
        lines += ["--\(alternative)", "Content-Type: text/html; charset=utf-8", "Content-Transfer-Encoding: base64", ""]
        lines += Self.base64Lines(Array(html.utf8))
        lines += ["--\(alternative)--"]
        for attachment in attachments {
            let name = attachment.filename.replacingOccurrences(of: "\"", with: "")
            lines += [
                "--\(mixed)",
                "Content-Type: \(attachment.contentType); name=\"\(name)\"",
                "Content-Disposition: attachment; filename=\"\(name)\"",
                "Content-Transfer-Encoding: base64",
                "",
            ]
            lines += Self.base64Lines(attachment.data)
        }
        lines += ["--\(mixed)--", ""]
        return Array(lines.joined(separator: "\r\n").utf8)
    }

    static func base64Lines(_ data: [UInt8]) -> [String] {
        let encoded = Data(data).base64EncodedString()
        var lines: [String] = []
        var index = encoded.startIndex
        while index < encoded.endIndex {
            let end = encoded.index(index, offsetBy: 76, limitedBy: encoded.endIndex) ?? encoded.endIndex
            lines.append(String(encoded[index..<end]))
            index = end
        }
        return lines
    }

    /// RFC 2047 encoded word for non-ASCII header text (ASCII passes through unchanged).
    static func encodedWord(_ text: String) -> String {
        let clean = text.replacingOccurrences(of: "\r", with: " ").replacingOccurrences(of: "\n", with: " ")
        guard !clean.unicodeScalars.allSatisfy({ $0.isASCII }) else { return clean }
        return "=?UTF-8?B?" + Data(clean.utf8).base64EncodedString() + "?="
    }

    static func token(_ text: String) -> String {
        String(text.unicodeScalars.filter { CharacterSet.alphanumerics.contains($0) }.map(Character.init).prefix(40))
    }

    static func rfc5322Date(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss '+0000'"
        return formatter.string(from: date)
    }
}
