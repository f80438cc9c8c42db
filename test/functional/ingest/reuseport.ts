/**
 * What systemd does for a socket unit with `ListenDatagram=` and `ReusePort=yes`, for tests and the
 * collector benchmark: open a UDP socket with SO_REUSEPORT on the port, pass it as fd 3 with the
 * socket-activation variables (LISTEN_FDS, LISTEN_PID, LISTEN_FDNAMES) and exec the command in the
 * same process. Each launched process owns one socket of the port's reuse group; the kernel spreads
 * datagrams over them by a hash of the 4-tuple, so one exporter's datagrams always reach one process.
 *
 * Node 20's dgram cannot set SO_REUSEPORT (its `reusePort` option came in 22.12), so the socket is
 * made by perl, which every Debian system has (perl-base is Essential) and whose Socket module
 * exposes setsockopt.
 */
import { createSocket } from 'node:dgram';

const launcher = String.raw`
use strict; use warnings;
use Socket qw(AF_INET SOCK_DGRAM SOL_SOCKET SO_REUSEPORT inet_aton pack_sockaddr_in);
use POSIX ();
use Fcntl qw(F_GETFD F_SETFD FD_CLOEXEC);
my ($address, $port, @command) = @ARGV;
socket(my $s, AF_INET, SOCK_DGRAM, 0) or die "socket: $!";
setsockopt($s, SOL_SOCKET, SO_REUSEPORT, 1) or die "SO_REUSEPORT: $!";
bind($s, pack_sockaddr_in($port, inet_aton($address))) or die "bind $address:$port: $!";
if (fileno($s) != 3) { POSIX::dup2(fileno($s), 3) // die "dup2: $!"; }
open(my $fd3, '<&=', 3) or die "fd 3: $!";
fcntl($fd3, F_SETFD, fcntl($fd3, F_GETFD, 0) & ~FD_CLOEXEC) or die "fcntl: $!";
$ENV{LISTEN_FDS} = 1; $ENV{LISTEN_PID} = $$; $ENV{LISTEN_FDNAMES} = 'flow';
exec { $command[0] } @command or die "exec $command[0]: $!";
`;

/** `command args…` run with a SO_REUSEPORT socket on address:port passed as fd 3 (socket activation). */
export function withReusePortSocket(
  address: string,
  port: number,
  command: string,
  args: string[],
): { command: string; args: string[] } {
  return { command: 'perl', args: ['-e', launcher, address, String(port), command, ...args] };
}

/** A UDP port free on the address right now (for processes that must all bind the same one). */
export async function freeUdpPort(address = '127.0.0.1'): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    s.once('error', reject);
    s.bind(0, address, () => resolve());
  });
  const { port } = s.address();
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}
