# A stand-in for Alpha-Orion's terraform/main.tf: the same variables and
# shape, but only Terraform's built-in provider (terraform_data) and a local
# backend, so init, plan and apply run offline in tests and drills.
terraform {
  backend "local" {}
}

variable "region" {
  description = "The Render region the services run in."
  type        = string
  default     = "oregon" # Change to frankfurt to fail over
}

variable "instances" {
  type    = number
  default = 2
}

variable "deploy_hook_token" {
  type      = string
  default   = "none"
  sensitive = true
}

resource "terraform_data" "user_api" {
  input = {
    region    = var.region
    instances = var.instances
  }
}

# Moving the monitor to another region replaces it.
resource "terraform_data" "blockchain_monitor" {
  triggers_replace = var.region
}

output "region" {
  value = terraform_data.user_api.output.region
}

output "api_endpoint" {
  value = "user-api-${var.region}.onrender.com"
}

output "instances" {
  value = var.instances
}

output "deploy_hook_url" {
  value     = "https://api.render.com/deploy/srv-${var.region}?key=${var.deploy_hook_token}"
  sensitive = true
}
