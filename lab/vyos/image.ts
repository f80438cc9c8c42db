/**
 * What an emulated router's image offers over the API. On 1.5 that is a property of the image's build
 * date, not of the major version (vyos-facts §1.4, §1.6, §5.5): rolling builds gained `GET /info` in
 * March 2025 (vyos-1x PR #4380, opened 2025-03-05, documented 2025-03-11) and commit-confirm over the
 * API in June 2025 (PR #4533, opened 2025-05-30; T3955 resolved June 2025). A build before that
 * silently ignores `confirm_time` (its request model has no such field) and refuses `{"op":"confirm"}`.
 * 1.4 has neither (no backport found).
 */
import type { VyosVersion } from './types.ts';

export interface ImageFeatures {
  /** The version string `show version` and `/info` report. */
  image: string;
  /** `confirm_time` arms a timer and `{"op":"confirm"}` is an operation. */
  commitConfirm: boolean;
  /** `GET /info` is served (nginx proxies it). */
  info: boolean;
  /** Build date (UTC) when the string carries one. */
  builtOn?: Date;
}

/** Images the lab runs unless told otherwise (1.5: a June 2025 rolling build, commit-confirm included). */
export const defaultImages: Record<VyosVersion, string> = {
  '1.4': '1.4.0',
  '1.5': '1.5-rolling-202506020019',
};

/** First build day (YYYYMMDD, inclusive) with each feature; the merge day itself was not read, see above. */
const infoSince = '20250312';
const commitConfirmSince = '20250601';

/** The build day `YYYYMMDD` of a rolling version string, in either naming VyOS used. */
function rollingDay(image: string): string | undefined {
  const old = /^1\.5-rolling-(\d{8})\d{4}$/.exec(image);
  if (old) return old[1];
  const dotted = /^(\d{4})\.(\d{2})\.(\d{2})-\d{4}-rolling$/.exec(image);
  return dotted ? `${dotted[1]}${dotted[2]}${dotted[3]}` : undefined;
}

/** What `image` offers on `version`; throws naming the problem when the string does not fit the version. */
export function imageFeatures(version: VyosVersion, image: string = defaultImages[version]): ImageFeatures {
  if (version === '1.4') {
    if (!/^1\.4\.\d+$/.test(image)) throw new Error(`image "${image}" is not a 1.4 release (expected 1.4.N)`);
    return { image, commitConfirm: false, info: false };
  }
  const day = rollingDay(image);
  if (day) {
    const builtOn = new Date(`${day.slice(0, 4)}-${day.slice(4, 6)}-${day.slice(6, 8)}T00:00:00Z`);
    return { image, commitConfirm: day >= commitConfirmSince, info: day >= infoSince, builtOn };
  }
  // 1.5 releases were cut from `current` after both changes (vyos-facts §0).
  if (/^1\.5\.\d+$/.test(image)) return { image, commitConfirm: true, info: true };
  throw new Error(`image "${image}" is not a 1.5 image (expected 1.5-rolling-YYYYMMDDHHMM, YYYY.MM.DD-HHMM-rolling or 1.5.N)`);
}
