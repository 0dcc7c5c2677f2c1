// Region table shipped with the store (Fly.io region codes, airport coordinates).
import type { Region } from './types.js';

export const REGIONS: readonly Region[] = [
  { code: 'ams', name: 'Amsterdam, Netherlands', latitude: 52.3086, longitude: 4.7639 },
  { code: 'arn', name: 'Stockholm, Sweden', latitude: 59.6519, longitude: 17.9186 },
  { code: 'atl', name: 'Atlanta, Georgia (US)', latitude: 33.6367, longitude: -84.4281 },
  { code: 'bog', name: 'Bogotá, Colombia', latitude: 4.7016, longitude: -74.1469 },
  { code: 'bom', name: 'Mumbai, India', latitude: 19.0887, longitude: 72.8679 },
  { code: 'bos', name: 'Boston, Massachusetts (US)', latitude: 42.3643, longitude: -71.0052 },
  { code: 'cdg', name: 'Paris, France', latitude: 49.0097, longitude: 2.5479 },
  { code: 'den', name: 'Denver, Colorado (US)', latitude: 39.8617, longitude: -104.6731 },
  { code: 'dfw', name: 'Dallas, Texas (US)', latitude: 32.8968, longitude: -97.038 },
  { code: 'ewr', name: 'Secaucus, NJ (US)', latitude: 40.6925, longitude: -74.1687 },
  { code: 'eze', name: 'Ezeiza, Argentina', latitude: -34.8222, longitude: -58.5358 },
  { code: 'fra', name: 'Frankfurt, Germany', latitude: 50.0333, longitude: 8.5706 },
  { code: 'gdl', name: 'Guadalajara, Mexico', latitude: 20.5218, longitude: -103.3112 },
  { code: 'gig', name: 'Rio de Janeiro, Brazil', latitude: -22.8099, longitude: -43.2506 },
  { code: 'gru', name: 'Sao Paulo, Brazil', latitude: -23.4356, longitude: -46.4731 },
  { code: 'hkg', name: 'Hong Kong, Hong Kong', latitude: 22.3089, longitude: 113.9146 },
  { code: 'iad', name: 'Ashburn, Virginia (US)', latitude: 38.9445, longitude: -77.4558 },
  { code: 'jnb', name: 'Johannesburg, South Africa', latitude: -26.1392, longitude: 28.246 },
  { code: 'lax', name: 'Los Angeles, California (US)', latitude: 33.9425, longitude: -118.4081 },
  { code: 'lhr', name: 'London, United Kingdom', latitude: 51.47, longitude: -0.4543 },
  { code: 'mad', name: 'Madrid, Spain', latitude: 40.4719, longitude: -3.5626 },
  { code: 'mia', name: 'Miami, Florida (US)', latitude: 25.7932, longitude: -80.2906 },
  { code: 'nrt', name: 'Tokyo, Japan', latitude: 35.7647, longitude: 140.3864 },
  { code: 'ord', name: 'Chicago, Illinois (US)', latitude: 41.9786, longitude: -87.9048 },
  { code: 'otp', name: 'Bucharest, Romania', latitude: 44.5711, longitude: 26.085 },
  { code: 'phx', name: 'Phoenix, Arizona (US)', latitude: 33.4343, longitude: -112.0116 },
  { code: 'qro', name: 'Querétaro, Mexico', latitude: 20.6173, longitude: -100.1859 },
  { code: 'scl', name: 'Santiago, Chile', latitude: -33.393, longitude: -70.7858 },
  { code: 'sea', name: 'Seattle, Washington (US)', latitude: 47.4502, longitude: -122.3088 },
  { code: 'sin', name: 'Singapore, Singapore', latitude: 1.3644, longitude: 103.9915 },
  { code: 'sjc', name: 'San Jose, California (US)', latitude: 37.3626, longitude: -121.9291 },
  { code: 'syd', name: 'Sydney, Australia', latitude: -33.9461, longitude: 151.1772 },
  { code: 'waw', name: 'Warsaw, Poland', latitude: 52.1657, longitude: 20.9671 },
  { code: 'yul', name: 'Montreal, Canada', latitude: 45.4706, longitude: -73.7408 },
  { code: 'yyz', name: 'Toronto, Canada', latitude: 43.6777, longitude: -79.6248 },
  // `sixpn up` puts its own host here; placed nowhere in particular (0,0).
  { code: 'local', name: 'This machine (sixpn up)', latitude: 0, longitude: 0 },
];

const EARTH_RADIUS_KM = 6371;
const rad = (d: number): number => (d * Math.PI) / 180;

/** Great-circle (haversine) distance in km between two regions. */
export function regionDistanceKm(a: Region, b: Region): number {
  const dLat = rad(b.latitude - a.latitude);
  const dLon = rad(b.longitude - a.longitude);
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(rad(a.latitude)) * Math.cos(rad(b.latitude)) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_KM * Math.asin(Math.min(1, Math.sqrt(h)));
}
