// TestPki (test_pki.hpp): each certificate is two or three `openssl` runs in the object's
// temporary directory, which is left readable by everyone (test keys only).
#include "tests/support/test_pki.hpp"

#include <filesystem>
#include <stdexcept>
#include <vector>

#include "tests/support/process.hpp"

namespace tka::test {
namespace {

void openssl(const std::vector<std::string>& args) {
    std::vector<std::string> argv{"openssl"};
    argv.insert(argv.end(), args.begin(), args.end());
    const RunResult r = run(argv);
    if (r.exit_code != 0) {
        std::string what = "openssl";
        for (const auto& a : args) {
            what.append(" ").append(a);
        }
        what.append(" failed: ").append(r.err);
        throw std::runtime_error(what);
    }
}

}  // namespace

TestPki::TestPki() {
    make_ca("ca", "/CN=tka test CA");
    make_ca("wrong-ca", "/CN=tka unrelated CA");
    issue("server", "/CN=localhost",
          "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n");
    issue("other", "/CN=redis.example.com",
          "subjectAltName=DNS:redis.example.com\nextendedKeyUsage=serverAuth\n");
    issue("client", "/CN=tka test client", "extendedKeyUsage=clientAuth\n");
    // A broker started as root drops to the 'mosquitto' user before it loads the plugin,
    // which must still read these files: open the directory and the files (test keys).
    namespace fs = std::filesystem;
    const auto readable = fs::perms::owner_read | fs::perms::group_read | fs::perms::others_read;
    fs::permissions(dir_.path(), readable | fs::perms::owner_all | fs::perms::group_exec |
                                     fs::perms::others_exec);
    for (const auto& entry : fs::directory_iterator(dir_.path())) {
        fs::permissions(entry.path(), readable, fs::perm_options::add);
    }
}

void TestPki::make_ca(const std::string& name, const std::string& subject) {
    openssl({"req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
             "-days", "2", "-subj", subject, "-keyout", dir_.file(name + ".key"), "-out",
             dir_.file(name + ".crt"), "-addext", "basicConstraints=critical,CA:TRUE", "-addext",
             "keyUsage=critical,keyCertSign,cRLSign"});
}

void TestPki::issue(const std::string& name, const std::string& subject,
                    const std::string& extensions) {
    const std::string ext = dir_.write(name + ".ext", extensions);
    openssl({"req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
             "-subj", subject, "-keyout", dir_.file(name + ".key"), "-out",
             dir_.file(name + ".csr")});
    openssl({"x509", "-req", "-in", dir_.file(name + ".csr"), "-CA", ca_cert(), "-CAkey",
             dir_.file("ca.key"), "-CAcreateserial", "-days", "2", "-extfile", ext, "-out",
             dir_.file(name + ".crt")});
}

}  // namespace tka::test
