terraform {
  required_version = ">= 1.10"
  required_providers {
    aws = {
      source                = "hashicorp/aws"
      version               = ">= 6.48"
      configuration_aliases = [aws.bedrock]
    }
  }
}
