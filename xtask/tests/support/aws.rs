//! The AWS SDK pointed at a local moto, for tests that set up or check the emulated account
//! from outside the command under test.

/// A runtime to block on and the SDK configuration for `endpoint` (dummy credentials,
/// us-east-1).
pub fn sdk(endpoint: &str) -> (tokio::runtime::Runtime, aws_config::SdkConfig) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let config = rt.block_on(
        aws_config::defaults(aws_config::BehaviorVersion::latest())
            .endpoint_url(endpoint)
            .region(aws_config::Region::new("us-east-1"))
            .credentials_provider(aws_sdk_ssm::config::Credentials::new(
                "testing", "testing", None, None, "test",
            ))
            .load(),
    );
    (rt, config)
}
