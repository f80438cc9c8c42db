/**
 * Shared set-up for the actuator's functional tests: the example topology on the VyOS emulator. The
 * fixtures live beside what they exercise (bench/actuator uses them too); this file gathers them.
 */
export { testRoot, weightProposal, SwitchableGuardData } from '../../../actuator/testing.ts';
export { KEY, SITES, startLab, running, type LabRig } from '../../../lab/vyos/testing.ts';
