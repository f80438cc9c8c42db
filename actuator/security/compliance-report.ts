/**
 * The compliance report in the three shapes auditors and tools take: JSON (everything), CSV (one row per
 * finding or passing rule, with its control ids, for a spreadsheet or a GRC import) and self-contained HTML
 * (a score per router, failing rules first, the config path at fault and how to fix it).
 */
import { csvRow, escapeHtml as esc } from '../../core/report-text.ts';
import type { RouterCompliance, RuleResult } from './compliance.ts';

export interface ComplianceReport {
  generated_at: string;
  routers: RouterCompliance[];
  /** Control id → rules mapped to it, per framework (what an auditor reads the report by). */
  frameworks: Record<'cis' | 'soc2' | 'iso27001' | 'pci', Record<string, string[]>>;
}

export function buildComplianceReport(routers: RouterCompliance[], now: number): ComplianceReport {
  const frameworks: ComplianceReport['frameworks'] = { cis: {}, soc2: {}, iso27001: {}, pci: {} };
  for (const r of routers[0]?.results ?? [])
    for (const fw of Object.keys(frameworks) as (keyof ComplianceReport['frameworks'])[])
      for (const control of r.controls[fw]) (frameworks[fw][control] ??= []).push(r.id);
  return { generated_at: new Date(now).toISOString(), routers, frameworks };
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
  return rows.join('\n') + '\n';
}

const ORDER = { fail: 0, pass: 1, 'n/a': 2 } as const;

function ruleRow(r: RuleResult): string {
  const controls = `CIS ${r.controls.cis.join(', ')} · SOC 2 ${r.controls.soc2.join(', ')} · ISO 27001 ${r.controls.iso27001.join(', ')} · PCI DSS ${r.controls.pci.join(', ')}`;
  const findings = r.findings.map((f) => `<li><code>${esc(f.path)}</code>: ${esc(f.detail)}</li>`).join('');
  return `<tr class="${r.status === 'fail' ? 'fail' : r.status === 'pass' ? 'pass' : 'na'}"><td>${esc(r.id)}</td><td>${esc(r.title)}</td><td>${r.severity}</td><td>${r.status}</td><td>${findings ? `<ul>${findings}</ul><p class="fix">${esc(r.remedy)}</p>` : ''}</td><td class="ctl">${esc(controls)}</td></tr>`;
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
</body></html>
`;
}
