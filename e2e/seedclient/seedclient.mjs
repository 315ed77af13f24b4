// The TypeScript TelegramAuthClient of communicator's earlier ingestor (its HTTP
// fallback, "fetchSession"), with its TypeScript types removed
// and nothing else changed in fetchSession: auth-telegram's HTTP API must keep
// working for it. GET /session/:userId?endpoint=...&apiKey=...&serviceId=...
// answers what getSession returns, or the message it throws.
class TelegramAuthClient {
  constructor(config) {
    this.config = { retryAttempts: 3, retryDelay: 1000, ...config };
    this.sessionCache = new Map();
  }

  async getSession(userId) {
    const cachedSession = this.sessionCache.get(userId);
    if (cachedSession && this.isSessionValid(cachedSession)) return cachedSession;
    const session = await this.fetchSession(userId);
    this.sessionCache.set(userId, session);
    return session;
  }

  isSessionValid(session) {
    const expiresAt = new Date(session.expiresAt);
    const now = new Date();
    const fiveMinutes = 5 * 60 * 1000;
    return expiresAt.getTime() - now.getTime() > fiveMinutes;
  }

  async fetchSession(userId) {
    let lastError = null;

    // Retry logic
    for (let attempt = 0; attempt < this.config.retryAttempts; attempt++) {
      try {
        // Check if we have a service binding
        if (this.config.telegramAuth) {
          // Use service binding to directly call the method
          const sessionData = await this.config.telegramAuth.getSessionByUserId(userId);

          return {
            sessionString: sessionData.sessionString,
            userId: userId,
            expiresAt: sessionData.expiresAt
          };
        } else if (this.config.endpoint) {
          // Fallback to HTTP for local development
          const url = `${this.config.endpoint}/sessions/user/${userId}`;

          const response = await fetch(url, {
            method: 'GET',
            headers: {
              'Authorization': `ApiKey ${this.config.apiKey}`,
              'X-Service-ID': this.config.serviceId,
              'Content-Type': 'application/json'
            }
          });

          if (!response.ok) {
            const errorText = await response.text();
            throw new Error(`Failed to get session: ${response.status} ${response.statusText} - ${errorText}`);
          }

          const data = await response.json();

          if (!data.success || !data.data) {
            throw new Error(`Failed to get session: ${data.error?.message || 'Unknown error'}`);
          }

          return data.data;
        } else {
          throw new Error('No service binding or endpoint configured');
        }
      } catch (error) {
        lastError = error instanceof Error ? error : new Error(String(error));

        // Don't wait on the last attempt
        if (attempt < this.config.retryAttempts - 1) {
          await new Promise(resolve => setTimeout(resolve, this.config.retryDelay));
        }
      }
    }

    throw lastError || new Error('Failed to get session after multiple attempts');
  }
}

export default {
  async fetch(request) {
    const url = new URL(request.url);
    if (url.pathname === "/health") return Response.json({ status: "ok" });
    const m = /^\/session\/(.+)$/.exec(url.pathname);
    if (!m) return new Response("not found", { status: 404 });
    const client = new TelegramAuthClient({
      endpoint: url.searchParams.get("endpoint"),
      apiKey: url.searchParams.get("apiKey"),
      serviceId: url.searchParams.get("serviceId"),
      retryAttempts: 1,
    });
    try {
      const session = await client.getSession(Number(m[1]));
      return Response.json({ ok: true, session });
    } catch (e) {
      return Response.json({ ok: false, message: e.message });
    }
  },
};
