# shellcheck shell=bash
# scripts/lib/docker-e2e.sh: what scripts/compose-e2e and scripts/swarm-e2e share. Sourced, never
# run, after the script defined `log MESSAGE…` and `fail MESSAGE…`:
#
#   source "$ROOT/scripts/lib/docker-e2e.sh"
#   e2e_docker_ready "$DOCKER_OFFLINE_DIR" debian swift registry distroless
#   e2e_contract_suite http://127.0.0.1:18080 "$ADMIN_TOKEN"
#
# What it may touch: Docker's engine and base images (installed or built when missing), and the
# package's test build (the contract suite runs from it). No shell option is set here.

if ! (return 0 2>/dev/null); then
	echo "docker-e2e.sh is sourced by the e2e scripts, not run" >&2
	exit 2
fi

# e2e_docker_ready OFFLINE_DIR IMAGE…: Docker and Compose work (docker-offline's ensure-docker
# when they do not), and each base image is there (build-base-images, which tries `docker pull`
# first, when one is missing). IMAGE is build-base-images's name: debian, swift, postgres,
# registry, distroless.
e2e_docker_ready() {
	local offline=$1 name missing=()
	shift
	if ! docker info >/dev/null 2>&1 || ! docker compose version >/dev/null 2>&1; then
		[[ -x $offline/ensure-docker ]] || fail "Docker is not working and $offline/ensure-docker is missing (set DOCKER_OFFLINE_DIR)"
		"$offline/ensure-docker" || fail "ensure-docker failed"
	fi
	for name in "$@"; do
		docker image inspect "$(e2e_base_image "$name")" >/dev/null 2>&1 || missing+=("$name")
	done
	((${#missing[@]})) || return 0
	if [[ -x $offline/build-base-images ]]; then
		log "base images missing (${missing[*]}): build-base-images --try-pull (tries docker pull, else builds stand-ins)"
		"$offline/build-base-images" --try-pull "${missing[@]}" || fail "build-base-images failed"
	else
		for name in "${missing[@]}"; do
			docker pull -q "$(e2e_base_image "$name")" >/dev/null || fail "cannot pull $(e2e_base_image "$name")"
		done
	fi
}

# e2e_base_image NAME: the official image build-base-images's NAME stands for.
e2e_base_image() {
	case $1 in
		debian) echo debian:bookworm-slim ;;
		swift) echo swift:6.3-bookworm ;;
		postgres) echo postgres:15-bookworm ;;
		registry) echo registry:2 ;;
		distroless) echo gcr.io/distroless/cc-debian12:nonroot ;;
		*) fail "unknown base image $1" ;;
	esac
}

# e2e_contract_suite URL ADMIN_TOKEN: the system tests' black-box contract checks
# (Tests/SystemTests/ContractChecks.swift, PublishedContractTests) against the front end at URL.
# Fails unless every one of them ran and passed.
e2e_contract_suite() {
	local url=$1 token=$2 output
	output=$(mktemp /tmp/bazar-contract-suite.XXXXXX)
	log "the contract suite against $url (swift test --filter PublishedContractTests)"
	if ! (cd "$ROOT" && swift build --build-tests >"$output" 2>&1); then
		tail -n 30 "$output" >&2
		rm -f "$output"
		fail "check failed: the test build for the contract suite"
	fi
	if ! (cd "$ROOT" && BAZAR_PUBLISHED_URL=$url BAZAR_PUBLISHED_ADMIN_TOKEN=$token \
		swift test --skip-build --filter PublishedContractTests >"$output" 2>&1); then
		grep -E '✘|error|recorded an issue' "$output" | head -n 40 >&2
		rm -f "$output"
		fail "check failed: the contract suite against $url"
	fi
	local passed
	passed=$(grep -c '^✔ Test "' "$output" || true)
	rm -f "$output"
	((passed >= 4)) || fail "check failed: the contract suite ran $passed tests against $url, not its 4 (skipped?)"
	log "the contract suite passed against $url ($passed tests)"
}
