terraform {
  required_version = ">= 1.10"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 6.48"
      # bedrock: the region the agents call Bedrock in; us_east_1: CloudFront-scoped WAF.
      configuration_aliases = [aws.bedrock, aws.us_east_1]
    }
  }
}
