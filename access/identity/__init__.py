"""Who someone is: OIDC sign-in, the actor of a use case, who is asking on each request
(session or API token), users and their roles, the demo personas; devidp/ is the embedded
identity provider of the demo."""
