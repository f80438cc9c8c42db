/** What the tunnel watch shows: its own module so the console can name it without reaching the watch. */

/** The tunnels as the last check saw them (the console's tunnel panel). */
export interface TunnelView {
  /** When the overlay was last read (null: never). */
  checked_at: number | null;
  wireguard: {
    node: string;
    iface: string;
    peer: string;
    path: 'primary' | 'backup';
    /** null: the node could not be read. */
    up: boolean | null;
    handshake_age_s: number | null;
    key_age_s: number | null;
    next_rotation_at: number | null;
    failed_over: boolean;
  }[];
  ipsec: { node: string; peer: string; up: boolean }[];
}
