/**
 * IPsec health from the router's own view: `show vpn ipsec sa` (vyos-1x src/op_mode/ipsec.py, strongSwan's
 * SAs through vici in tabulate's plain table). One row per CHILD SA, named `<peer>-vti` or
 * `<peer>-tunnel-N`; only established SAs are listed, so a peer with no `up` row has lost its SA — the
 * tunnel is down.
 */

export interface IpsecSaRow {
  connection: string;
  state: string;
  uptime: string;
  remoteAddress: string;
  remoteId: string;
  proposal: string;
}

/** The rows of `show vpn ipsec sa` (columns found from the dashes under the header). */
export function parseIpsecSa(text: string): IpsecSaRow[] {
  const lines = text.split('\n');
  const rule = lines.findIndex((l) => /^-+( +-+)+\s*$/.test(l));
  if (rule < 1) return [];
  // Each column starts where its run of dashes does.
  const starts: number[] = [];
  for (const m of lines[rule]!.matchAll(/-+/g)) starts.push(m.index);
  const cells = (line: string) => starts.map((s, i) => line.slice(s, starts[i + 1] ?? line.length).trim());
  const header = cells(lines[0 + rule - 1]!);
  const col = (name: string) => header.indexOf(name);
  return lines
    .slice(rule + 1)
    .filter((l) => l.trim())
    .map((l) => {
      const c = cells(l);
      return {
        connection: c[col('Connection')] ?? '',
        state: c[col('State')] ?? '',
        uptime: c[col('Uptime')] ?? '',
        remoteAddress: c[col('Remote address')] ?? '',
        remoteId: c[col('Remote ID')] ?? '',
        proposal: c[col('Proposal')] ?? '',
      };
    });
}

/** Whether `peer` has an established CHILD SA in that output (`<peer>-vti` or `<peer>-tunnel-N`, state up). */
export function ipsecPeerUp(rows: readonly IpsecSaRow[], peer: string): boolean {
  return rows.some((r) => r.state === 'up' && (r.connection === `${peer}-vti` || r.connection.startsWith(`${peer}-tunnel-`)));
}
