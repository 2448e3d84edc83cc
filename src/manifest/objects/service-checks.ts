// A Service's spec as ValidateService checks it on create, after SetDefaults_Service (type
// ClusterIP, a port's protocol TCP and targetPort its port, sessionAffinity None, each also where
// it is "", as a chart renders an unset value). berth ignores a Service with a warning
// (ports are published by a container's hostPort), but one a cluster refuses is refused here too,
// at the field, as a file's claim is: a type a cluster does not know; ExternalName without
// externalName; no ports unless headless (clusterIP None) or ExternalName; a port that is not 1-65535
// (a quoted "80" is no port); a protocol other than TCP, UDP, SCTP; a targetPort that is neither a
// port number nor an IANA port name (a quoted "8080" is a name without a letter); a port name that is
// no DNS label, missing beside other ports, or given twice; the same port and protocol twice; a
// nodePort on a ClusterIP Service; a sessionAffinity other than None or ClientIP, a ClientIP timeout
// outside 1-86400; a selector key that is no qualified name,
// or a value that is no label value (a number: `version: 2` unquoted); an externalName that is no
// DNS subdomain (a trailing dot allowed), or a clusterIP, ipFamilies or ipFamilyPolicy beside it;
// an ipFamily other than IPv4 or IPv6 or given twice, an ipFamilyPolicy other than SingleStack,
// PreferDualStack, RequireDualStack; an externalTrafficPolicy on a Service not reached from outside
// (ClusterIP without externalIPs) or other than Cluster or Local, an internalTrafficPolicy other
// than Cluster or Local (a pointer: "" is a value, refused); loadBalancer fields beside another
// type, a healthCheckNodePort but on a LoadBalancer of Local policy; clusterIP None on a NodePort or
// LoadBalancer; a nodePort given twice for one protocol; an appProtocol that is no qualified name.
// Its IPs and the rest are not checked. Pure.
import type { Diagnostic } from '../../lib/yaml-validate.js';
import { isObj, type Obj } from '../plain.js';
import { PORT_NAME } from '../pod-uniques.js';
import { type ParsedDoc, specRefuser } from '../position.js';
import { isDnsSubdomain, LABEL_VALUE, PROTOCOLS, qualifiedNameProblem } from '../slips.js';

const TYPES = ['ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName'];
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** A plain string field's value, SetDefaults_Service's default where it is not given or "" (a chart's unset value). */
const orDefault = (v: unknown, dflt: string) => (v === undefined || v === '' ? dflt : v);

const isPortNumber = (v: unknown) => Number.isInteger(v) && (v as number) >= 1 && (v as number) <= 65535;

export function checkService(p: ParsedDoc, spec: Obj | undefined): Diagnostic[] {
  const out: Diagnostic[] = [];
  const refuse = specRefuser(p, out);
  const s = spec ?? {};
  const type = orDefault(s.type, 'ClusterIP');
  if (!TYPES.includes(type as string)) refuse(['type'], `must be one of ${TYPES.join(', ')}`);
  if (type === 'ExternalName') checkExternalName(s, refuse, spec && 'type' in s ? ['type'] : []);
  else checkFamilies(s, refuse);
  checkTypeFields(s, type, refuse);
  // A shape a cluster cannot decode into a ServiceSpec (ports: {port: 80}, selector: "app=x").
  const given = (v: unknown) => v !== undefined && v !== null;
  const portsNoList = given(s.ports) && !Array.isArray(s.ports);
  if (portsNoList) refuse(['ports'], 'must be a list of ports');
  if (given(s.selector) && !isObj(s.selector)) refuse(['selector'], 'must be a map of labels');
  const ports = Array.isArray(s.ports) ? s.ports : [];
  // Headless: clusterIP None (or clusterIPs' first, which a cluster copies to it).
  const headless = (s.clusterIP ?? (Array.isArray(s.clusterIPs) ? s.clusterIPs[0] : undefined)) === 'None';
  if (ports.length === 0 && !headless && type !== 'ExternalName' && !portsNoList)
    refuse(spec && 'ports' in s ? ['ports'] : [], 'needs at least one port (or clusterIP: None)');
  const names = new Set<string>();
  const pairs = new Set<string>();
  const nodePairs = new Set<string>();
  ports.forEach((port, i) => {
    if (!isObj(port)) {
      refuse(['ports', i], 'must be a port: a map of port, protocol, name, targetPort');
      return;
    }
    const { name, targetPort } = port;
    const protocol = orDefault(port.protocol, 'TCP');
    if (name === undefined || name === '') {
      if (ports.length > 1) refuse(['ports', i], 'needs a name: a Service of several ports names each');
    } else if (typeof name !== 'string' || !DNS_LABEL.test(name))
      refuse(['ports', i, 'name'], 'must be a DNS label: lowercase letters, digits and -, at most 63');
    else if (names.has(name)) refuse(['ports', i, 'name'], `names ${name} twice`);
    else names.add(name);
    if (!isPortNumber(port.port)) refuse(['ports', i, 'port'], 'must be a port number, 1-65535');
    if (!PROTOCOLS.includes(protocol as string))
      refuse(['ports', i, 'protocol'], `must be one of ${PROTOCOLS.join(', ')}`);
    if (
      targetPort !== undefined &&
      targetPort !== 0 &&
      targetPort !== '' &&
      !(isPortNumber(targetPort) || (typeof targetPort === 'string' && PORT_NAME.test(targetPort)))
    )
      refuse(
        ['ports', i, 'targetPort'],
        "must be a port number (1-65535) or a port name (at most 15 lowercase letters, digits and '-', with a letter)",
      );
    const pair = `${String(protocol)}/${String(port.port)}`;
    if (isPortNumber(port.port) && pairs.has(pair)) refuse(['ports', i], `gives ${pair} twice`);
    pairs.add(pair);
    if (type === 'ClusterIP' && port.nodePort !== undefined && port.nodePort !== 0)
      refuse(['ports', i, 'nodePort'], 'may not be used when type is ClusterIP');
    const nodePair = `${String(protocol)}/${String(port.nodePort)}`;
    if (isPortNumber(port.nodePort) && nodePairs.has(nodePair))
      refuse(['ports', i, 'nodePort'], `gives ${nodePair} twice`);
    nodePairs.add(nodePair);
    // A pointer: "" is a value, and no qualified name.
    const app = port.appProtocol;
    const appWhy =
      app === undefined ? undefined : typeof app === 'string' ? qualifiedNameProblem(app) : 'it is no string';
    if (appWhy !== undefined)
      refuse(['ports', i, 'appProtocol'], `must be a qualified name (http, kubernetes.io/h2c): ${appWhy}`);
  });
  if (headless && (type === 'NodePort' || type === 'LoadBalancer'))
    refuse(['clusterIP' in s ? 'clusterIP' : 'clusterIPs'], `may not be None for ${type} services`);
  const affinity = orDefault(s.sessionAffinity, 'None');
  if (affinity !== 'None' && affinity !== 'ClientIP') refuse(['sessionAffinity'], 'must be None or ClientIP');
  const clientIP = isObj(s.sessionAffinityConfig) ? s.sessionAffinityConfig.clientIP : undefined;
  const timeout = isObj(clientIP) ? clientIP.timeoutSeconds : undefined;
  // A sessionAffinityConfig beside None is no error: the API's defaulting drops it before validation.
  if (
    affinity === 'ClientIP' &&
    timeout !== undefined &&
    !(Number.isInteger(timeout) && (timeout as number) > 0 && (timeout as number) <= 86400)
  )
    refuse(['sessionAffinityConfig', 'clientIP', 'timeoutSeconds'], 'must be above 0 and at most 86400');
  const selector = isObj(s.selector) ? s.selector : {};
  for (const [k, v] of Object.entries(selector)) {
    const why = qualifiedNameProblem(k);
    if (why) refuse(['selector', k], `key ${k === '' ? '""' : k}: ${why}`);
    else if (typeof v === 'number' || typeof v === 'boolean')
      refuse(['selector', k], `is a ${typeof v}, not a string: quote it ("${String(v)}")`);
    else if (typeof v !== 'string' || !LABEL_VALUE.test(v))
      refuse(
        ['selector', k],
        "must be a label value: a string of at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit",
      );
  }
  return out;
}

type Refuse = (path: Array<string | number>, why: string) => void;
const isSet = (v: unknown) => v !== undefined && v !== '';
const FAMILIES = ['IPv4', 'IPv6'];
const FAMILY_POLICIES = ['SingleStack', 'PreferDualStack', 'RequireDualStack'];
const TRAFFIC_POLICIES = ['Cluster', 'Local'];

/** An ExternalName Service: its externalName a DNS subdomain (a trailing dot denotes it fully qualified), no IPs. */
function checkExternalName(s: Obj, refuse: Refuse, typeAt: string[]): void {
  const name = s.externalName;
  const cname = typeof name === 'string' ? name.replace(/\.$/, '') : '';
  if (cname === '')
    refuse(name === undefined ? typeAt : ['externalName'], 'ExternalName needs spec.externalName');
  else if (!isDnsSubdomain(cname))
    refuse(
      ['externalName'],
      "must be a DNS subdomain: lowercase letters, digits, '-' and '.', at most 253 (a host name, not a URL or IP:port)",
    );
  // The strategy copies clusterIP into clusterIPs, which an ExternalName Service may not have.
  if (isSet(s.clusterIP)) refuse(['clusterIP'], 'may not be set for ExternalName services');
  else if (Array.isArray(s.clusterIPs) && s.clusterIPs.length > 0)
    refuse(['clusterIPs'], 'may not be set for ExternalName services');
  if (Array.isArray(s.ipFamilies) && s.ipFamilies.length > 0)
    refuse(['ipFamilies'], 'may not be set for ExternalName services');
  if (s.ipFamilyPolicy !== undefined) refuse(['ipFamilyPolicy'], 'may not be set for ExternalName services');
}

/** ipFamilies and ipFamilyPolicy as ValidateServiceClusterIPsRelatedFields checks them alone. */
function checkFamilies(s: Obj, refuse: Refuse): void {
  const seen = new Set<unknown>();
  (Array.isArray(s.ipFamilies) ? s.ipFamilies : []).forEach((f, i) => {
    if (!FAMILIES.includes(f as string)) refuse(['ipFamilies', i], `must be one of ${FAMILIES.join(', ')}`);
    else if (seen.has(f)) refuse(['ipFamilies', i], `gives ${String(f)} twice`);
    seen.add(f);
  });
  if (s.ipFamilyPolicy !== undefined && !FAMILY_POLICIES.includes(s.ipFamilyPolicy as string))
    refuse(['ipFamilyPolicy'], `must be one of ${FAMILY_POLICIES.join(', ')}`);
}

/** The traffic policies (validateServiceExternalTrafficPolicy, …InternalTrafficFieldsValue) and the load balancer's fields. */
function checkTypeFields(s: Obj, type: unknown, refuse: Refuse): void {
  const externalIPs = Array.isArray(s.externalIPs) && s.externalIPs.length > 0;
  const reachable = type === 'NodePort' || type === 'LoadBalancer' || (type === 'ClusterIP' && externalIPs);
  const etp = s.externalTrafficPolicy;
  if (isSet(etp) && !reachable)
    refuse(
      ['externalTrafficPolicy'],
      'may only be set for externally-accessible services (type NodePort or LoadBalancer, or externalIPs)',
    );
  else if (isSet(etp) && !TRAFFIC_POLICIES.includes(etp as string))
    refuse(['externalTrafficPolicy'], `must be one of ${TRAFFIC_POLICIES.join(', ')}`);
  const itp = s.internalTrafficPolicy;
  if (itp !== undefined && !TRAFFIC_POLICIES.includes(itp as string))
    refuse(['internalTrafficPolicy'], `must be one of ${TRAFFIC_POLICIES.join(', ')}`);
  // Only a LoadBalancer of externalTrafficPolicy Local has a health check node port (allocated when not given).
  const hc = s.healthCheckNodePort;
  if (hc !== undefined && hc !== 0 && !(type === 'LoadBalancer' && etp === 'Local'))
    refuse(
      ['healthCheckNodePort'],
      'may only be set when type is LoadBalancer and externalTrafficPolicy is Local',
    );
  else if (hc !== undefined && hc !== 0 && !isPortNumber(hc))
    refuse(['healthCheckNodePort'], 'must be a port number, 1-65535');
  if (type === 'LoadBalancer') return;
  const ranges = s.loadBalancerSourceRanges;
  if (Array.isArray(ranges) && ranges.length > 0)
    refuse(['loadBalancerSourceRanges'], 'may only be used when type is LoadBalancer');
  for (const f of ['allocateLoadBalancerNodePorts', 'loadBalancerClass'])
    if (s[f] !== undefined) refuse([f], 'may only be used when type is LoadBalancer');
}
