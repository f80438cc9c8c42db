import { describe, expect, it } from 'vitest';
import { Topology } from '../../core/config/topology.ts';
import { ConfigError } from '../../core/errors.ts';
import { loadConfig } from '../../core/config/index.ts';
import { defaultImages, imageFeatures } from './image.ts';
import { createVyosLabComponent } from './lab.ts';

describe('imageFeatures', () => {
  it('1.5 rolling builds: /info from March 2025, commit-confirm from June 2025, in both naming schemes', () => {
    expect(imageFeatures('1.5', '1.5-rolling-202410220018')).toMatchObject({ commitConfirm: false, info: false });
    expect(imageFeatures('1.5', '1.5-rolling-202504010019')).toMatchObject({ commitConfirm: false, info: true });
    expect(imageFeatures('1.5', '1.5-rolling-202505310019')).toMatchObject({ commitConfirm: false, info: true });
    expect(imageFeatures('1.5', '1.5-rolling-202506010019')).toMatchObject({ commitConfirm: true, info: true });
    expect(imageFeatures('1.5', '2025.03.01-0019-rolling')).toMatchObject({ commitConfirm: false, info: false });
    expect(imageFeatures('1.5', '2025.07.14-0020-rolling')).toMatchObject({ commitConfirm: true, info: true });
    expect(imageFeatures('1.5', '2025.07.14-0020-rolling').builtOn?.toISOString()).toBe('2025-07-14T00:00:00.000Z');
    expect(imageFeatures('1.5', '1.5.0')).toMatchObject({ commitConfirm: true, info: true });
  });

  it('1.4 has neither; the defaults keep what the lab ran before', () => {
    expect(imageFeatures('1.4')).toEqual({ image: '1.4.0', commitConfirm: false, info: false });
    expect(imageFeatures('1.5').image).toBe(defaultImages['1.5']);
    expect(imageFeatures('1.5').commitConfirm).toBe(true);
  });

  it('refuses an image that does not fit the version, naming it', () => {
    expect(() => imageFeatures('1.4', '1.5-rolling-202410220018')).toThrow(/"1\.5-rolling-202410220018" is not a 1\.4 release/);
    expect(() => imageFeatures('1.5', '1.4.0')).toThrow(/"1\.4\.0" is not a 1\.5 image/);
    expect(() => imageFeatures('1.5', 'rolling')).toThrow(/not a 1\.5 image/);
  });

  it('lab.vyos.images: a bad image or an unknown site is a ConfigError naming the key', () => {
    const topology = new Topology(loadConfig(undefined, {}).root);
    const make = (images: Record<string, string>) =>
      createVyosLabComponent({ topology, apiKey: 'k' }, { sites: ['onprem-fra'], images });
    expect(() => make({ 'onprem-fra': '1.5-rolling-202410220018' })).not.toThrow();
    const bad = (() => {
      try {
        make({ 'onprem-fra': '1.4.0', 'no-such-site': '1.4.0' });
      } catch (err) {
        return err;
      }
      return undefined;
    })();
    expect(bad).toBeInstanceOf(ConfigError);
    expect(String((bad as Error).message)).toMatch(/lab\.vyos\.images\.onprem-fra: image "1\.4\.0" is not a 1\.5 image/);
    expect(String((bad as Error).message)).toMatch(/lab\.vyos\.images: unknown site "no-such-site"/);
  });
});
