#pragma once

// The contract between fod and its registry helper, fod-registry (hook/fod-registry/main.cpp):
// the command line fod runs, the exit statuses and the keys of the one JSON line the helper
// prints. Both programs include this header, so neither writes a bare number or key.
//
//   fod-registry probe [OPTIONS] [--verify-key PEM]... -- REFERENCE
//
// The helper prints one line, a JSON object: on success the result keys below, otherwise
// only "error", a one-line message. Every string in it is printable (util::printable):
// whatever a registry sent never reaches a terminal as a control sequence.

namespace fod::registry::helper {

// The subcommand that probes a reference.
inline constexpr const char *probe_command = "probe";
// The subcommands that fetch (--output FILE) and publish (--file FILE) a mappings artifact;
// they print reference, digest, size (and verified_by) on success.
inline constexpr const char *fetch_mappings_command = "fetch-mappings";
inline constexpr const char *publish_mappings_command = "publish-mappings";
// Ends the options: the reference that follows is an operand even if it starts with '-'.
inline constexpr const char *end_of_options = "--";

// Exit statuses of `fod-registry probe`.
enum class Status : int {
  found = 0,     // the result keys
  not_found = 1, // no such repository, tag, digest or platform
  usage = 2,     // an invalid reference or option; nothing was sent
  // A transport failure: the host cannot be resolved or connected to, or it did not answer
  // in time. Only this is "unreachable" (fod allow then records consent without a digest).
  unreachable = 3,
  // The registry answered but refused or failed: access denied, a server error, TLS, too
  // many redirects, an index inside an index.
  failed = 4,
  // The registry's answer cannot be read: not JSON, wrong types, a manifest that does not
  // parse, content whose digest is not the one asked for or announced, a body too large.
  malformed = 5,
  // --verify-key was given and the digest has no cosign signature that one of the keys
  // verifies and that names that digest and the reference's repository; "error" says which.
  unverified = 6,
  // fetch-mappings: the reference names something that is not a fod mappings artifact (another
  // artifact type, a layer of another media type, more than one layer, a layer over 1 MiB).
  not_mappings = 7,
};

// Keys of the JSON line.
namespace key {
inline constexpr const char *reference = "reference";             // canonical
inline constexpr const char *digest = "digest";                   // what the tag resolves to
inline constexpr const char *manifest_digest = "manifest_digest"; // this platform's manifest
inline constexpr const char *size = "size";                       // bytes of its layers
inline constexpr const char *media_type = "media_type";           // of what digest names
inline constexpr const char *platform = "platform";               // "linux/amd64"
inline constexpr const char *verified_by = "verified_by";         // the key file, with --verify-key
inline constexpr const char *error = "error"; // the message, with any status but found
} // namespace key

} // namespace fod::registry::helper
