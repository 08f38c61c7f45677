#!/usr/bin/env bash
# Drives Huawei's official Terraform provider against a kmsd dev server:
# creates, reads, checks for drift, updates in place and destroys
# huaweicloud_kms_key (SM4, EC_P256, AES_256 with alias, description and
# tags), huaweicloud_kms_grant, huaweicloud_kms_alias and the
# huaweicloud_kms_key and huaweicloud_kms_keys data sources. Any error, and
# any drift (a plan that is not empty right after an apply), fails it.
#
# Not part of scripts/test.sh: building Terraform and the provider takes
# about 30 minutes on two cores, and needs github.com. How to build both
# from their public sources: docs/compatibility.md, "Terraform".
#
# Usage: scripts/terraform-check.sh TERRAFORM PROVIDER
#   TERRAFORM  the terraform binary (e.g. ~/src/terraform/terraform)
#   PROVIDER   the provider binary built from huaweicloud/terraform-provider-huaweicloud
#              (e.g. ~/src/terraform-provider-huaweicloud/terraform-provider-huaweicloud)
# Environment: KMSD (a kmsd binary; default: built from this tree),
#              KEEP=1 keeps the temporary directory for inspection.
#
# It talks to loopback only and stops the server it started (by PID).
set -euo pipefail

if [ $# -ne 2 ]; then
  sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
fi
terraform=$(realpath "$1")
provider=$(realpath "$2")
[ -x "$terraform" ] || { echo "terraform-check: $terraform is not an executable" >&2; exit 2; }
[ -x "$provider" ] || { echo "terraform-check: $provider is not an executable" >&2; exit 2; }
root=$(cd "$(dirname "$0")/.." && pwd)

work=$(mktemp -d)
server_pid=""
cleanup() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill "$server_pid"
    wait "$server_pid" 2>/dev/null || true
  fi
  if [ "${KEEP:-}" = 1 ]; then
    echo "terraform-check: kept $work"
  else
    rm -rf "$work"
  fi
}
trap cleanup EXIT

# 1. A dev server on a free loopback port.
kmsd=${KMSD:-}
if [ -z "$kmsd" ]; then
  kmsd="$work/kmsd"
  (cd "$root" && go build -o "$kmsd" ./cmd/kmsd)
fi
"$kmsd" serve --dev --data "$work/data" --listen 127.0.0.1:0 --log-level info \
  >"$work/kmsd.out" 2>"$work/kmsd.log" &
server_pid=$!
endpoint=""
for _ in $(seq 1 100); do
  endpoint=$(sed -n 's/^kmsd dev server listening on \(http:\/\/[^ ]*\).*/\1/p' "$work/kmsd.out" | head -1)
  [ -n "$endpoint" ] && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$work/kmsd.log" >&2; echo "terraform-check: kmsd did not start" >&2; exit 1; }
  sleep 0.1
done
[ -n "$endpoint" ] || { echo "terraform-check: kmsd printed no endpoint" >&2; exit 1; }
# shellcheck disable=SC1091
. "$work/data/dev.env"
echo "terraform-check: kmsd at $endpoint"

# 2. The provider through dev_overrides (no registry, no terraform init).
mkdir -p "$work/plugins"
cp "$provider" "$work/plugins/terraform-provider-huaweicloud"
cat >"$work/terraformrc" <<EOF
provider_installation {
  dev_overrides {
    "huaweicloud/huaweicloud" = "$work/plugins"
  }
  direct {}
}
EOF
export TF_CLI_CONFIG_FILE="$work/terraformrc"
export TF_IN_AUTOMATION=1 TF_INPUT=0 CHECKPOINT_DISABLE=1
mkdir -p "$work/tf"
cd "$work/tf"

# write_config STAGE writes main.tf for stage 1 (create) or 2 (update).
write_config() {
  local desc=created alias_suffix=1 enabled=true rotation=false env=test
  if [ "$1" = 2 ]; then
    desc=updated alias_suffix=2 enabled=false rotation=true env=prod
  fi
  cat >main.tf <<EOF
terraform {
  required_providers {
    huaweicloud = { source = "huaweicloud/huaweicloud" }
  }
}

provider "huaweicloud" {
  region                  = "cn-north-4"
  access_key              = "$CLOUD_SDK_AK"
  secret_key              = "$CLOUD_SDK_SK"
  project_id              = "$CLOUD_SDK_PROJECT_ID"
  auth_url                = "$endpoint/v3"
  endpoints               = { kms = "$endpoint/", iam = "$endpoint/" }
  insecure                = true
  skip_check_website_type = true
  skip_check_upgrade      = true
}

resource "huaweicloud_kms_key" "sm4" {
  key_alias     = "tf-check-sm4"
  key_algorithm = "SM4"
  pending_days  = "7"
}

resource "huaweicloud_kms_key" "ec" {
  key_alias     = "tf-check-ec"
  key_algorithm = "EC_P256"
  key_usage     = "SIGN_VERIFY"
  pending_days  = "7"
}

resource "huaweicloud_kms_key" "aes" {
  key_alias        = "tf-check-aes-$alias_suffix"
  key_algorithm    = "AES_256"
  key_description  = "$desc"
  is_enabled       = $enabled
  rotation_enabled = $rotation
  pending_days     = "7"
  tags             = { env = "$env", team = "kms" }
}

resource "huaweicloud_kms_alias" "aes" {
  key_id = huaweicloud_kms_key.sm4.id
  alias  = "tf-check-alias"
}

resource "huaweicloud_kms_grant" "reader" {
  key_id            = huaweicloud_kms_key.sm4.id
  grantee_principal = "$KMSD_DEV_READER_ID"
  operations        = ["describe-key", "encrypt-data", "decrypt-data"]
}

data "huaweicloud_kms_key" "sm4" {
  key_alias  = huaweicloud_kms_key.sm4.key_alias
  depends_on = [huaweicloud_kms_key.sm4]
}

data "huaweicloud_kms_keys" "all" {
  key_algorithm = "SM4"
  depends_on    = [huaweicloud_kms_key.sm4]
}

output "sm4_from_data_source" { value = data.huaweicloud_kms_key.sm4.id }
output "sm4_keys" { value = length(data.huaweicloud_kms_keys.all.keys) }
EOF
}

# no_drift fails when a plan right after an apply has changes to make.
no_drift() {
  local rc=0
  "$terraform" plan -detailed-exitcode -no-color >"plan-$1.txt" 2>&1 || rc=$?
  case $rc in
    0) echo "terraform-check: stage $1: no drift" ;;
    2) cat "plan-$1.txt"; echo "terraform-check: stage $1: DRIFT (the plan above is not empty)" >&2; exit 1 ;;
    *) cat "plan-$1.txt"; echo "terraform-check: stage $1: plan failed" >&2; exit 1 ;;
  esac
}

# The grantee: the dev reader (README, dev identities), unless dev.env
# names another.
KMSD_DEV_READER_ID=${KMSD_DEV_READER_ID:-a0000000000000000000000000000002}

# resource_id prints the id of a resource in the state.
resource_id() {
  "$terraform" state show -no-color "$1" | sed -n 's/^ *id *= *"\(.*\)"$/\1/p' | head -1
}

write_config 1
"$terraform" apply -auto-approve -no-color
no_drift 1
sm4=$(resource_id huaweicloud_kms_key.sm4)
aes=$(resource_id huaweicloud_kms_key.aes)
[ "$("$terraform" output -raw sm4_from_data_source)" = "$sm4" ] \
  || { echo "terraform-check: the huaweicloud_kms_key data source found another key than $sm4" >&2; exit 1; }
[ "$("$terraform" output -raw sm4_keys)" -ge 1 ] \
  || { echo "terraform-check: the huaweicloud_kms_keys data source lists no SM4 key" >&2; exit 1; }

write_config 2
"$terraform" apply -auto-approve -no-color
no_drift 2
# The update was in place: the same key, not a replacement.
[ "$(resource_id huaweicloud_kms_key.aes)" = "$aes" ] \
  || { echo "terraform-check: huaweicloud_kms_key.aes was replaced, not updated in place" >&2; exit 1; }

"$terraform" destroy -auto-approve -no-color
left=$("$terraform" state list | wc -l)
[ "$left" -eq 0 ] || { echo "terraform-check: $left resources left after destroy" >&2; exit 1; }
if grep -Eq 'level=ERROR|"level":"ERROR"' "$work/kmsd.log"; then
  grep -E 'level=ERROR|"level":"ERROR"' "$work/kmsd.log" >&2
  echo "terraform-check: kmsd logged errors" >&2
  exit 1
fi
echo "terraform-check: PASS (create, read, no drift, update in place, destroy)"
