/// TLS settings of a Kafka client (PEM files).
public struct KafkaTLSOptions: Sendable {
    /// CA certificates that sign the brokers' certificates. Default: `nil`
    /// (the system's CA certificates, as OpenSSL finds them).
    public var caFile: String?
    /// The client certificate, for brokers that authenticate clients by
    /// certificate (mutual TLS); needs ``keyFile``. Default: `nil`.
    public var certificateFile: String?
    /// The client certificate's private key. Default: `nil`.
    public var keyFile: String?
    /// The password of an encrypted ``keyFile``. Default: `nil`.
    public var keyPassword: KafkaSecret?
    /// Whether the broker's certificate must name the host connected to
    /// (`ssl.endpoint.identification.algorithm=https`). Turn off only for
    /// test clusters whose certificates name no host. Default: `true`.
    public var verifiesHostname: Bool = true

    public init(caFile: String? = nil, certificateFile: String? = nil, keyFile: String? = nil,
                keyPassword: KafkaSecret? = nil, verifiesHostname: Bool = true) {
        self.caFile = caFile
        self.certificateFile = certificateFile
        self.keyFile = keyFile
        self.keyPassword = keyPassword
        self.verifiesHostname = verifiesHostname
    }

    /// Whether any setting differs from the defaults.
    var isCustomized: Bool {
        caFile != nil || certificateFile != nil || keyFile != nil || keyPassword != nil || !verifiesHostname
    }
}
