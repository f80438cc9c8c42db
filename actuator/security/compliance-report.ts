/**
 * The compliance report in the three shapes auditors and tools take: JSON (everything), CSV (one row per
 * finding or passing rule, with its control ids, for a spreadsheet or a GRC import) and self-contained HTML
 * (a score per router, failing rules first, the config path at fault and how to fix it). With residency
 * rules, it also carries their proof from flow data (residency-proof.ts).
 */
import { csvRow, escapeHtml as esc, formatBytes } from '../../core/report-text.ts';
import type { RouterCompliance, RuleResult } from './compliance.ts';
import type { ResidencyProof } from './residency-proof.ts';

/** The data-residency proof over a window of flow data. */
export interface ResidencySection {
  /** The window the flow bytes cover (ISO times; the rollups read, widened to whole buckets). */
  from: string;
  to: string;
  /** Why the flow data could not be read; the rules are then unproven (and `rules` is empty). */
  error?: string;
  /** One per `policy.residency` rule, in the config's order. */
  rules: ResidencyProof[];
}

export interface ComplianceReport {
  generated_at: string;
  routers: RouterCompliance[];
  /** Control id → rules mapped to it, per framework (what an auditor reads the report by). */
  frameworks: Record<'cis' | 'soc2' | 'iso27001' | 'pci', Record<string, string[]>>;
  /** Only when the config has residency rules and the proof was asked for. */
  residency?: ResidencySection;
}

export function buildComplianceReport(routers: RouterCompliance[], now: number, residency?: ResidencySection): ComplianceReport {
  const frameworks: ComplianceReport['frameworks'] = { cis: {}, soc2: {}, iso27001: {}, pci: {} };
  for (const r of routers[0]?.results ?? [])
    for (const fw of Object.keys(frameworks) as (keyof ComplianceReport['frameworks'])[])
      for (const control of r.controls[fw]) (frameworks[fw][control] ??= []).push(r.id);
  return { generated_at: new Date(now).toISOString(), routers, frameworks, ...(residency ? { residency } : {}) };
}

const CSV_HEAD = ['router', 'rule', 'title', 'severity', 'status', 'path', 'detail', 'cis', 'soc2', 'iso27001', 'pci'];

export function complianceCsv(report: ComplianceReport): string {
  const rows = [csvRow(CSV_HEAD)];
  for (const router of report.routers) {
    if (router.error) rows.push(csvRow([router.router, '', '', '', 'error', '', router.error, '', '', '', '']));
    for (const r of router.results) {
      const controls = [r.controls.cis, r.controls.soc2, r.controls.iso27001, r.controls.pci].map((c) => c.join(' '));
      const findings = r.findings.length ? r.findings : [{ path: '', detail: '' }];
      for (const f of findings)
        rows.push(csvRow([router.router, r.id, r.title, r.severity, r.status, f.path, f.detail, ...controls]));
    }
  }
  if (report.residency) rows.push(...residencyCsvRows(report.residency));
  return rows.join('\n') + '\n';
}

/**
 * Residency rows under the same header: rule `RESIDENCY:<name>`, status the verdict, one row per class and
 * region crossed (path `region R`) and one per breach (router: the exporter; path `link L → region R`).
 * Controls stay empty: no framework control is mapped to a residency rule.
 */
function residencyCsvRows(section: ResidencySection): string[] {
  const row = (router: string, rule: string, title: string, status: string, path: string, detail: string) =>
    csvRow([router, rule, title, '', status, path, detail, '', '', '', '']);
  if (section.error) return [row('', 'RESIDENCY', 'Data residency', 'error', '', section.error)];
  return section.rules.flatMap((p) => {
    const rule = `RESIDENCY:${p.rule}`;
    const title = `Data residency: traffic stays in ${p.regions.join(', ')}`;
    if (p.verdict === 'no-traffic')
      return [row('', rule, title, p.verdict, '', `no bound traffic from ${section.from} to ${section.to}`)];
    return [
      ...p.crossed.map((c) =>
        row(
          '',
          rule,
          title,
          p.verdict,
          `region ${c.region}`,
          `class ${c.class}: ${c.bytes} bytes${c.allowed ? '' : ', outside'}`,
        ),
      ),
      ...p.breaches.map((b) =>
        row(
          b.src_site,
          rule,
          title,
          p.verdict,
          `link ${b.link} → region ${b.region}`,
          `class ${b.class}: ${b.bytes} bytes left the allowed regions`,
        ),
      ),
    ];
  });
}

const ORDER = { fail: 0, pass: 1, 'n/a': 2 } as const;

function ruleRow(r: RuleResult): string {
  const controls = `CIS ${r.controls.cis.join(', ')} · SOC 2 ${r.controls.soc2.join(', ')} · ISO 27001 ${r.controls.iso27001.join(', ')} · PCI DSS ${r.controls.pci.join(', ')}`;
  const findings = r.findings.map((f) => `<li><code>${esc(f.path)}</code>: ${esc(f.detail)}</li>`).join('');
  return `<tr class="${r.status === 'fail' ? 'fail' : r.status === 'pass' ? 'pass' : 'na'}"><td>${esc(r.id)}</td><td>${esc(r.title)}</td><td>${r.severity}</td><td>${r.status}</td><td>${findings ? `<ul>${findings}</ul><p class="fix">${esc(r.remedy)}</p>` : ''}</td><td class="ctl">${esc(controls)}</td></tr>`;
}

const VERDICT_ORDER = { violated: 0, proven: 1, 'no-traffic': 2 } as const;

function residencyRuleHtml(p: ResidencyProof): string {
  const crossed = p.crossed
    .map(
      (c) =>
        `<tr${c.allowed ? '' : ' class="fail"'}><td>${esc(c.class)}</td><td>${esc(c.region)}</td><td>${formatBytes(c.bytes)}</td><td>${c.allowed ? 'allowed' : 'outside'}</td></tr>`,
    )
    .join('\n');
  const breaches = p.breaches
    .map(
      (b) =>
        `<tr class="fail"><td>${esc(b.class)}</td><td>${esc(b.src_site)}</td><td>${esc(b.link)}</td><td>${esc(b.region)}</td><td>${formatBytes(b.bytes)}</td></tr>`,
    )
    .join('\n');
  const binds = `${p.classes.length ? `class ${p.classes.join(', ')}` : 'every class'} towards ${p.dst_prefixes.length ? p.dst_prefixes.join(', ') : 'every destination'}`;
  const traffic =
    p.verdict === 'no-traffic'
      ? 'No bound traffic in the window.'
      : `Bound traffic: ${formatBytes(p.bytes_inside)} inside, ${formatBytes(p.bytes_outside)} outside.`;
  return `<h3>${esc(p.rule)}: ${p.verdict}</h3>
<p>Binds ${esc(binds)}; allowed regions: ${esc(p.regions.join(', '))}. ${traffic}</p>${
    crossed
      ? `
<table><thead><tr><th>class</th><th>region crossed</th><th>bytes</th><th>status</th></tr></thead><tbody>
${crossed}
</tbody></table>`
      : ''
  }${
    breaches
      ? `
<p>Left the allowed regions:</p>
<table><thead><tr><th>class</th><th>exported by</th><th>link</th><th>region</th><th>bytes</th></tr></thead><tbody>
${breaches}
</tbody></table>`
      : ''
  }`;
}

function residencyHtml(section: ResidencySection): string {
  const rules = [...section.rules].sort((a, b) => VERDICT_ORDER[a.verdict] - VERDICT_ORDER[b.verdict]).map(residencyRuleHtml);
  return `<h2 id="residency">Data residency</h2>
<p>From the flow data of ${esc(section.from)} to ${esc(section.to)}: for each residency rule, the regions its traffic crossed as each exporting router saw it (its own region and that of the far end of the link the flow left on; relays that export flows add their hops). A hop that cannot be placed counts as outside.</p>${
    section.error ? `\n<p class="err">${esc(section.error)}</p>` : ''
  }
${rules.join('\n')}`;
}

export function complianceHtml(report: ComplianceReport): string {
  const summary = report.routers
    .map((r) => {
      const failing = r.results.filter((x) => x.status === 'fail').length;
      return `<tr><td><a href="#${esc(r.router)}">${esc(r.router)}</a></td><td>${r.score === null ? 'unread' : r.score.toFixed(1)}</td><td>${r.error ? esc(r.error) : `${failing} failing`}</td></tr>`;
    })
    .join('\n');
  const sections = report.routers
    .map((r) => {
      const rows = [...r.results]
        .sort((a, b) => ORDER[a.status] - ORDER[b.status])
        .map(ruleRow)
        .join('\n');
      return `<h2 id="${esc(r.router)}">${esc(r.router)}: ${r.score === null ? 'not evaluated' : `score ${r.score.toFixed(1)}`}</h2>${r.error ? `<p class="err">${esc(r.error)}</p>` : ''}
<table><thead><tr><th>rule</th><th>check</th><th>severity</th><th>status</th><th>findings</th><th>controls</th></tr></thead><tbody>
${rows}
</tbody></table>`;
    })
    .join('\n');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>pathpilot compliance report</title>
<style>body{font-family:system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:left;vertical-align:top}tr.fail{background:#fde2d6}tr.na{color:#777}td.ctl{font-size:85%}p.fix{margin:.3em 0;font-style:italic}p.err{color:#b00}ul{margin:0;padding-left:1.2em}</style></head>
<body><h1>Compliance report</h1><p>Generated ${esc(report.generated_at)} from each router's running configuration. Score: applicable rules passed, weighted by severity (high 3, medium 2, low 1).</p>
<table><thead><tr><th>router</th><th>score</th><th>status</th></tr></thead><tbody>
${summary}
</tbody></table>
${sections}
${report.residency ? `${residencyHtml(report.residency)}\n` : ''}</body></html>
`;
}
