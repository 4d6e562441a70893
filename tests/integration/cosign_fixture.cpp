// See cosign_fixture.hpp.
#include "cosign_fixture.hpp"

#include "files.hpp"

#include <nlohmann/json.hpp>
#include <openssl/evp.h>

#include <sys/stat.h>

#include <stdexcept>
#include <vector>

namespace fod::test {

KeyPair make_key(const TempDir& dir, const std::string& name, KeyKind kind) {
    KeyPair key;
    key.kind = kind;
    key.private_pem = dir.path() + "/" + name + ".pem";
    key.public_pem = dir.path() + "/" + name + ".pub.pem";
    std::vector<std::string> argv = {"openssl", "genpkey"};
    switch (kind) {
    case KeyKind::ec_p256:
        argv.insert(argv.end(), {"-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"});
        break;
    case KeyKind::ed25519: argv.insert(argv.end(), {"-algorithm", "ed25519"}); break;
    case KeyKind::rsa2048:
        argv.insert(argv.end(), {"-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"});
        break;
    }
    argv.insert(argv.end(), {"-out", key.private_pem});
    Result made = run(argv, {.timeout_s = 60});
    if (made.status != 0) throw std::runtime_error("openssl genpkey failed: " + made.err);
    Result pub = run({"openssl", "pkey", "-in", key.private_pem, "-pubout", "-out", key.public_pem},
                     {.timeout_s = 60});
    if (pub.status != 0) throw std::runtime_error("openssl pkey -pubout failed: " + pub.err);
    // fod may run as another user (fodtest): the public key must be readable.
    chmod(key.public_pem.c_str(), 0644);
    return key;
}

std::string simple_signing_payload(const std::string& docker_reference,
                                   const std::string& manifest_digest) {
    // Written out rather than dumped: the bytes are what is signed, in cosign's order.
    return R"({"critical":{"identity":{"docker-reference":")" + docker_reference +
           R"("},"image":{"docker-manifest-digest":")" + manifest_digest +
           R"("},"type":"cosign container image signature"},"optional":null})";
}

std::string sign_with_openssl(const KeyPair& key, const std::string& payload) {
    TempDir work;
    const std::string in = work.write("payload.json", payload);
    const std::string out = work.path() + "/signature";
    std::vector<std::string> argv;
    if (key.kind == KeyKind::ed25519)
        argv = {"openssl",       "pkeyutl", "-sign", "-rawin", "-inkey",
                key.private_pem, "-in",     in,      "-out",   out};
    else
        argv = {"openssl", "dgst", "-sha256", "-sign", key.private_pem, "-out", out, in};
    Result signed_ = run(argv, {.timeout_s = 60});
    if (signed_.status != 0) throw std::runtime_error("openssl signing failed: " + signed_.err);
    std::string signature = read_file(out);
    if (signature.empty()) throw std::runtime_error("openssl wrote no signature");
    return signature;
}

std::string base64_encode(const std::string& data) {
    std::string out(4 * ((data.size() + 2) / 3) + 1, '\0');
    int size = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                               reinterpret_cast<const unsigned char*>(data.data()),
                               static_cast<int>(data.size()));
    out.resize(static_cast<size_t>(size));
    return out;
}

std::string base64_decode(const std::string& text) {
    std::string out(3 * (text.size() / 4) + 3, '\0');
    int size = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                               reinterpret_cast<const unsigned char*>(text.data()),
                               static_cast<int>(text.size()));
    if (size < 0 || text.size() % 4 != 0) throw std::runtime_error("not base64: " + text);
    size_t padding = 0;
    for (size_t i = text.size(); i > 0 && text[i - 1] == '=' && padding < 2; --i) ++padding;
    out.resize(static_cast<size_t>(size) - padding);
    return out;
}

bool openssl_verifies(const KeyPair& key, const std::string& payload,
                      const std::string& signature) {
    TempDir work;
    const std::string in = work.write("payload.json", payload);
    const std::string sig = work.write("signature", signature);
    std::vector<std::string> argv;
    if (key.kind == KeyKind::ed25519)
        argv = {"openssl", "pkeyutl", "-verify", "-pubin",   "-inkey", key.public_pem,
                "-rawin",  "-in",     in,        "-sigfile", sig};
    else
        argv = {"openssl", "dgst", "-sha256", "-verify", key.public_pem, "-signature", sig, in};
    return run(argv, {.timeout_s = 60}).status == 0;
}

std::string signature_tag(const std::string& digest) {
    if (digest.rfind("sha256:", 0) != 0) throw std::logic_error("not a sha256 digest: " + digest);
    return "sha256-" + digest.substr(7) + ".sig";
}

std::string sign_image(const TestRegistry& registry, const std::string& repo,
                       const std::string& digest, const SignatureOptions& options) {
    std::string payload = simple_signing_payload(
        options.docker_reference, options.signed_digest.empty() ? digest : options.signed_digest);
    const std::string signature = base64_encode(sign_with_openssl(options.key, payload));
    if (options.tamper) {
        const std::string from = R"("optional":null)", to = R"("optional":{  })";
        payload.replace(payload.find(from), from.size(), to);
    }
    const std::string config = R"({"architecture":"","config":{},"os":""})";
    const std::string payload_digest = registry.put_blob(repo, payload);
    const std::string config_digest = registry.put_blob(repo, config);
    const std::string oci_manifest = "application/vnd.oci.image.manifest.v1+json";
    nlohmann::json manifest = {
        {"schemaVersion", 2},
        {"mediaType", oci_manifest},
        {"config",
         {{"mediaType", "application/vnd.oci.image.config.v1+json"},
          {"size", config.size()},
          {"digest", config_digest}}},
        {"layers",
         {{{"mediaType", "application/vnd.dev.cosign.simplesigning.v1+json"},
           {"size", payload.size()},
           {"digest", payload_digest},
           {"annotations", {{"dev.cosignproject.cosign/signature", signature}}}}}}};
    registry.put_manifest(repo, signature_tag(digest), oci_manifest, manifest.dump());
    return payload;
}

}  // namespace fod::test
