// `bench_dns_server handshakes`: makes a registry learn thousands of peers the
// way a real one does, through authenticated handshake initiations, so that
// bench/memory.sh measures a registry whose peers all hold a session and a
// published endpoint (not just 10,000 idle [Peer] sections).
#pragma once

namespace wgp::bench {

// argv[2..]: --to IP:PORT --server-key BASE64 --keys FILE [--bind IP] [--rate N]
// [--sockets N]. FILE holds "private public" base64 lines (from `keys`); peer
// i sends one initiation from socket i % N, paced at N per second (default
// 600, below the device's 1,024/s under-load threshold), answers a cookie
// reply as a peer does (the initiation again with mac2, at most 3 times: a
// registry on a loaded machine is under load at far lower rates), then waits
// up to 10 s for responses. Prints the counts; returns 0 when every peer got
// a response.
int drive_handshakes(int argc, char** argv);

}  // namespace wgp::bench
