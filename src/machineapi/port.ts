/** Port the machine API answers on at fdaa:N:N::3 (redirected to the agent like DNS). */
export const MACHINE_API_PORT = 80;
