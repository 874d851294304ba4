# -*- coding: utf-8 -*-
# Copyright: openshift_sts.oidc contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one catalogue of finding codes shared by every diagnostic module.

A *finding* is a plain dict::

    {"code": "DISCOVERY_ACCESS_DENIED", "severity": "error", "link": "discovery",
     "subject": "https://.../.well-known/openid-configuration",
     "message": "...", "expected": ..., "actual": ..., "remediation": "..."}

``link`` names the link of the trust chain the finding belongs to, in chain
order (:data:`LINKS`)::

    token -> issuer -> discovery -> jwks -> (hosting) -> iam_provider -> role_trust -> sts

``hosting`` findings (S3 bucket, CloudFront) explain *why* the discovery or
JWKS link is broken; they sort right after those links.

Every string of a finding passes through :func:`redact` before it is
returned, so a token, a private key or AWS credentials that slipped into a
message never reach the module result.
"""

import functools
import re

SEVERITIES = ("error", "warning", "info")
"""Severities, worst first."""

LINKS = ("token", "issuer", "discovery", "jwks", "hosting", "iam_provider", "role_trust", "sts", "other")
"""Links of the trust chain, in the order STS walks them (``hosting`` is the cause of discovery/JWKS failures)."""

LINK_TITLES = {
    "token": "Cluster and service account token",
    "issuer": "Issuer URL",
    "discovery": "Discovery document",
    "jwks": "JSON Web Key Set",
    "hosting": "Issuer hosting (S3, CloudFront)",
    "iam_provider": "IAM OIDC identity provider",
    "role_trust": "IAM role trust policy",
    "sts": "STS AssumeRoleWithWebIdentity",
    "other": "Other",
}

_CCO_DOC = "https://github.com/openshift/cloud-credential-operator/blob/master/docs/sts.md"

# Each entry: severity, link, title, cause, expected (what the `expected` field
# shows), actual (what the `actual` field shows), remediation.
CATALOGUE = {
    # ------------------------------------------------------------ cluster, token
    "ISSUER_NOT_CONFIGURED": dict(
        severity="error", link="token",
        title="The cluster has no public service account issuer",
        cause="The cluster's Authentication resource has an empty spec.serviceAccountIssuer, so service account tokens "
              "carry the internal default issuer (https://kubernetes.default.svc), which AWS cannot reach.",
        expected="the public issuer URL registered as IAM OIDC provider",
        actual="the issuer configured on the cluster (empty)",
        remediation="Set spec.serviceAccountIssuer of authentication.config.openshift.io/cluster to the public issuer URL "
                    "(the one the IAM OIDC provider names), then restart the pods that use STS credentials."),
    "TOKEN_INVALID": dict(
        severity="error", link="token",
        title="The token is not a JWT STS can accept",
        cause="The token cannot be parsed as a signed JWT (wrong number of parts, bad base64url, header or claims not a "
              "JSON object), is unsigned or HMAC-signed, or has missing or mistyped claims. STS answers "
              "'InvalidIdentityToken: The ID Token provided is not a valid JWT'.",
        expected="a JWS in compact form signed with RS256/384/512 or ES256/384/512 with string iss, sub, aud and integer exp",
        actual="why the token was rejected (never the token itself)",
        remediation="Pass the projected service account token (audience openshift) from "
                    "/var/run/secrets/openshift/serviceaccount/token, not an access token or a file with extra content."),
    "TOKEN_ISSUER_MISMATCH": dict(
        severity="error", link="token",
        title="The token's iss differs from the issuer",
        cause="The token was minted by a cluster whose serviceAccountIssuer differs from the issuer URL checked (issuer "
              "changed and pods not restarted, trailing slash, typo). STS looks up the IAM provider by iss, byte for byte.",
        expected="the issuer URL",
        actual="the token's iss claim",
        remediation="Make spec.serviceAccountIssuer, the discovery document's issuer and the IAM OIDC provider URL identical, "
                    "then restart the pods so they get tokens with the new iss."),
    "TOKEN_EXPIRED": dict(
        severity="warning", link="token",
        title="The token has expired",
        cause="The token's exp is in the past (or the local clock is skewed); STS would answer ExpiredTokenException.",
        expected="exp in the future",
        actual="exp and the current time (seconds since the epoch)",
        remediation="Use a fresh token; check the node clocks (NTP) if freshly minted tokens are reported expired."),
    "CREDENTIALS_REQUESTS_MISSING": dict(
        severity="warning", link="token",
        title="No AWS CredentialsRequest found",
        cause="No CredentialsRequest with an AWSProviderSpec was found (none in the cluster, or no credentials_requests_dir "
              "extracted next to the install directory), so no operator role could be checked.",
        expected="the CredentialsRequests of the release (oc adm release extract --credentials-requests)",
        actual="where they were looked for",
        remediation="Extract the CredentialsRequests with 'oc adm release extract --credentials-requests --included "
                    "--install-config=install-config.yaml --to=<dir> <release image>' and point credentials_requests_dir at it."),
    "CREDENTIALS_SECRET_MISSING": dict(
        severity="error", link="token",
        title="A CredentialsRequest's credentials Secret is missing",
        cause="The Secret named by the CredentialsRequest's spec.secretRef does not exist (in Manual mode nothing creates "
              "it but the ccoctl manifests), so the operator has no role ARN and cannot call STS at all.",
        expected="Secret <secretRef.namespace>/<secretRef.name> with a credentials key",
        actual="the Secret that was not found",
        remediation="Apply the Secret manifest ccoctl create-iam-roles wrote (manifests/<namespace>-<name>-credentials.yaml), "
                    "or rerun ccoctl aws create-iam-roles for this CredentialsRequest."),
    "CREDENTIALS_ROLE_ARN_MISSING": dict(
        severity="error", link="token",
        title="The credentials Secret names no IAM role",
        cause="The Secret's credentials file has no role_arn (or not an ARN): a ccoctl --dry-run placeholder, a Secret of "
              "mint/passthrough mode with access keys, or a hand-written file. The operator cannot use STS.",
        expected="an INI profile [default] with role_arn = arn:<partition>:iam::<account>:role/<name> and web_identity_token_file",
        actual="what the credentials key holds (key names only, never values other than role_arn)",
        remediation="Replace the Secret with the one ccoctl create-iam-roles generated for this CredentialsRequest."),
    # ------------------------------------------------------------ issuer URL
    "ISSUER_URL_INVALID": dict(
        severity="error", link="issuer",
        title="The issuer URL is not one AWS accepts",
        cause="IAM and STS need an https URL without port, query, fragment or trailing slash; an S3 bucket name with "
              "dots breaks virtual-host TLS.",
        expected="https://<host>[/<path>] without port, query, fragment or trailing slash",
        actual="the problems found in the URL",
        remediation="Pick an issuer of the form https://<bucket>.s3.<region>.amazonaws.com or https://<id>.cloudfront.net "
                    "(no trailing slash) and use it identically in the cluster, the discovery document and IAM."),
    # ------------------------------------------------------------ discovery
    "DISCOVERY_UNREACHABLE": dict(
        severity="error", link="discovery",
        title="The discovery document cannot be fetched",
        cause="The anonymous GET of <issuer>/.well-known/openid-configuration failed: DNS, connection, TLS, timeout, "
              "proxy, or an HTTP server error. STS then answers 'Couldn't retrieve verification key from your identity provider'.",
        expected="HTTP 200 over publicly trusted HTTPS within the timeout",
        actual="the failure kind (dns, connection, tls, timeout, proxy, http) and its detail",
        remediation="Check that the issuer host resolves publicly and serves a publicly trusted certificate, and that "
                    "outbound HTTPS (and the proxy, if any) reaches it."),
    "DISCOVERY_ACCESS_DENIED": dict(
        severity="error", link="discovery",
        title="The discovery document is not publicly readable",
        cause="An anonymous GET returned 401/403: a private bucket, Block Public Access, a missing bucket-policy grant "
              "for the CloudFront origin access, objects owned by another account, or a missing object (S3 answers 403 "
              "for a missing key when the reader cannot list the bucket).",
        expected="HTTP 200 for an anonymous GET",
        actual="the HTTP status and the S3 error Code/Message or the Server header",
        remediation="Make the object anonymously readable: serve it through CloudFront with origin access control and the "
                    "matching bucket-policy grant, or (public bucket) allow s3:GetObject to everyone; check that the object exists."),
    "DISCOVERY_NOT_FOUND": dict(
        severity="error", link="discovery",
        title="No discovery document at the issuer",
        cause="An anonymous GET of <issuer>/.well-known/openid-configuration returned 404: wrong issuer path, or the "
              "document was never uploaded.",
        expected="HTTP 200",
        actual="HTTP 404 and the S3 error Code when present",
        remediation="Upload the discovery document generated by ccoctl to <issuer>/.well-known/openid-configuration."),
    "DISCOVERY_REDIRECT": dict(
        severity="error", link="discovery",
        title="The discovery document URL redirects",
        cause="The server answered 3xx (for S3, PermanentRedirect: wrong regional endpoint, e.g. a CloudFront origin on the "
              "global s3.amazonaws.com endpoint for a bucket outside us-east-1). STS does not follow redirects.",
        expected="HTTP 200 without redirect",
        actual="the status and the Location header or the S3 Endpoint",
        remediation="Use the regional endpoint <bucket>.s3.<region>.amazonaws.com as issuer host or CloudFront origin."),
    "DISCOVERY_INVALID": dict(
        severity="error", link="discovery",
        title="The discovery document is not a valid OpenID configuration",
        cause="The body is not a JSON object (an HTML error page, XML, truncated, larger than 1 MiB) or lacks a required "
              "field: issuer, jwks_uri, response_types_supported, subject_types_supported, "
              "id_token_signing_alg_values_supported.",
        expected="a JSON object with the required OpenID fields",
        actual="what is wrong with the body",
        remediation="Upload the discovery document generated by ccoctl (create-identity-provider) unchanged."),
    "DISCOVERY_ISSUER_MISMATCH": dict(
        severity="error", link="discovery",
        title="The discovery document names another issuer",
        cause="The issuer field of the discovery document differs from the issuer URL byte for byte (document generated "
              "for another issuer, a trailing slash, http vs https).",
        expected="the issuer URL",
        actual="the issuer field of the discovery document",
        remediation="Regenerate the discovery document for this issuer URL (ccoctl) and upload it."),
    "ISSUER_SLOW": dict(
        severity="warning", link="discovery",
        title="The issuer answers too slowly for STS",
        cause="STS gives the identity provider about 5 seconds; the discovery and JWKS requests took close to or more than "
              "the timeout (cold CloudFront edges, a slow proxy, an overloaded server).",
        expected="total time of the discovery and JWKS requests below the warning threshold (80 % of the timeout)",
        actual="the time of each request and their total, in seconds",
        remediation="Serve the documents from S3 or CloudFront close to the AWS region, and retry; a persistent delay needs "
                    "a faster host."),
    # ------------------------------------------------------------ JWKS
    "JWKS_URI_INVALID": dict(
        severity="error", link="jwks",
        title="The discovery document's jwks_uri is not usable",
        cause="jwks_uri is not an absolute https URL (error), or it is on another host than the issuer (warning; ccoctl "
              "publishes <issuer>/keys.json).",
        expected="<issuer>/keys.json",
        actual="the jwks_uri of the discovery document",
        remediation="Set jwks_uri to <issuer>/keys.json (as ccoctl does) and upload keys.json there."),
    "JWKS_UNREACHABLE": dict(
        severity="error", link="jwks",
        title="The JWKS cannot be fetched",
        cause="The anonymous GET of jwks_uri failed: DNS, connection, TLS, timeout, proxy or an HTTP server error.",
        expected="HTTP 200 over publicly trusted HTTPS within the timeout",
        actual="the failure kind (dns, connection, tls, timeout, proxy, http) and its detail",
        remediation="Check that the jwks_uri host resolves publicly, serves a publicly trusted certificate and is reachable."),
    "JWKS_ACCESS_DENIED": dict(
        severity="error", link="jwks",
        title="The JWKS is not publicly readable",
        cause="An anonymous GET of jwks_uri returned 401/403 (private object, Block Public Access, missing grant, missing "
              "object without s3:ListBucket).",
        expected="HTTP 200 for an anonymous GET",
        actual="the HTTP status and the S3 error Code/Message or the Server header",
        remediation="Make keys.json anonymously readable the same way as the discovery document, and check that it exists."),
    "JWKS_NOT_FOUND": dict(
        severity="error", link="jwks",
        title="No JWKS at jwks_uri",
        cause="An anonymous GET of jwks_uri returned 404: keys.json not uploaded, or jwks_uri points elsewhere.",
        expected="HTTP 200",
        actual="HTTP 404 and the S3 error Code when present",
        remediation="Upload keys.json (ccoctl create-identity-provider output) to the jwks_uri location."),
    "JWKS_REDIRECT": dict(
        severity="error", link="jwks",
        title="jwks_uri redirects",
        cause="The server answered 3xx for jwks_uri (for S3, PermanentRedirect: wrong regional endpoint). STS does not follow redirects.",
        expected="HTTP 200 without redirect",
        actual="the status and the Location header or the S3 Endpoint",
        remediation="Point jwks_uri (and the CloudFront origin) at the regional endpoint that serves keys.json directly."),
    "JWKS_INVALID": dict(
        severity="error", link="jwks",
        title="The JWKS is not a usable key set",
        cause="The body is not a JSON object with a keys array of RSA or EC public keys (HTML error page, truncated, "
              "keys of the wrong type, missing kty/n/e, duplicate kid with different keys).",
        expected="{\"keys\": [{\"kty\": \"RSA\", \"kid\": ..., \"n\": ..., \"e\": ...}]}",
        actual="what is wrong, with the index and kid of the offending key",
        remediation="Upload the keys.json generated by ccoctl from the cluster's service account signing key."),
    "JWKS_TOO_MANY_KEYS": dict(
        severity="warning", link="jwks",
        title="The JWKS has more than 100 keys",
        cause="STS reads at most 100 keys of a JWKS (observed); a kid further down is never found (error when a needed kid "
              "is past the 100th key).",
        expected="at most 100 keys",
        actual="the number of keys (and the position of the needed kid)",
        remediation="Remove retired keys from keys.json; keep the current signing key and the previous one during rotation."),
    "JWKS_KID_MISSING": dict(
        severity="error", link="jwks",
        title="A needed key id is not published",
        cause="The token's kid, or the kid of a key of the cluster (expected_keys), is not in the published JWKS: the signing "
              "key was rotated and keys.json was not updated.",
        expected="the kid that must be published",
        actual="the kids published in the JWKS",
        remediation="Add the cluster's current public key to keys.json (ccoctl create-identity-provider or the key rotation "
                    "procedure), keeping the old key until all tokens are renewed."),
    "INSTALL_SIGNING_KEY_MISSING": dict(
        severity="error", link="jwks",
        title="The install directory has no bound service account signing key",
        cause="tls/bound-service-account-signing-key.key (written by ccoctl create-key-pair / create-all) is missing or "
              "unreadable, so openshift-install generates a new key whose public half is not in the published keys.json: "
              "every token will fail verification at STS.",
        expected="tls/bound-service-account-signing-key.key holding the private key of the published keys.json",
        actual="the file and why it cannot be used",
        remediation="Copy ccoctl's output tls/ directory (serviceaccount-signer.private as "
                    "tls/bound-service-account-signing-key.key) into the install directory before create cluster."),
    "JWKS_KEY_MISMATCH": dict(
        severity="error", link="jwks",
        title="A published key differs from the cluster's key",
        cause="The JWKS publishes a key under a kid of the cluster's key but with other key material, or publishes the "
              "cluster's key under another kid. Tokens then fail signature verification at STS.",
        expected="the cluster's key (kid and fingerprint)",
        actual="the published key (kid and fingerprint)",
        remediation="Regenerate keys.json from the cluster's service account signing key (bound-service-account-signing-key) "
                    "and upload it."),
    "JWKS_PRIVATE_KEY_EXPOSED": dict(
        severity="error", link="jwks",
        title="The JWKS publishes private key material",
        cause="A key in the public JWKS carries private members (d, p, q, dp, dq, qi, oth) or is a symmetric (oct) key: "
              "anyone can mint tokens for your roles.",
        expected="public members only",
        actual="the index, kid and names (never the values) of the private members",
        remediation="Replace keys.json with public keys only, rotate the service account signing key at once, and review "
                    "CloudTrail for AssumeRoleWithWebIdentity calls you did not expect."),
    "TOKEN_SIGNATURE_INVALID": dict(
        severity="error", link="jwks",
        title="The token's signature does not verify with the published keys",
        cause="No published key (the one named by the token's kid, or any key if the token has none) verifies the "
              "token's signature: the published key is not the cluster's signing key, or the token was altered.",
        expected="a published key that verifies the token",
        actual="the reason verification failed",
        remediation="Publish the public key of the cluster's current service account signing key in keys.json."),
    # ------------------------------------------------------------ hosting
    "ISSUER_BUCKET_PRIVATE": dict(
        severity="error", link="hosting",
        title="The issuer's S3 bucket blocks anonymous reads",
        cause="The issuer is an S3 URL and public reads are blocked by account Block Public Access, bucket Block Public "
              "Access, or the absence of a public grant.",
        expected="anonymous s3:GetObject allowed on the issuer objects",
        actual="the setting that blocks: account BPA, bucket BPA, no public grant",
        remediation="Serve the issuer through CloudFront with origin access control (private bucket), or allow public reads "
                    "of the issuer objects if your policy permits it."),
    "CLOUDFRONT_NOT_DEPLOYED": dict(
        severity="warning", link="hosting",
        title="The CloudFront distribution is not deployed yet",
        cause="The distribution's Status is InProgress: its configuration has not reached every edge, so some requests may fail.",
        expected="Status Deployed",
        actual="the distribution status",
        remediation="Wait until the distribution is Deployed (minutes to tens of minutes), then probe again."),
    "CLOUDFRONT_DISABLED": dict(
        severity="error", link="hosting",
        title="The CloudFront distribution is disabled",
        cause="The distribution serving the issuer has Enabled false and does not answer requests.",
        expected="Enabled true",
        actual="Enabled false",
        remediation="Enable the distribution and wait until it is Deployed."),
    "CLOUDFRONT_ORIGIN_GLOBAL_ENDPOINT": dict(
        severity="error", link="hosting",
        title="The CloudFront origin uses the global S3 endpoint",
        cause="The origin domain is <bucket>.s3.amazonaws.com; for a bucket outside us-east-1 S3 answers PermanentRedirect, "
              "which CloudFront passes on.",
        expected="<bucket>.s3.<region>.amazonaws.com",
        actual="the origin domain name",
        remediation="Change the origin domain to the bucket's regional REST endpoint."),
    "CLOUDFRONT_ORIGIN_ACCESS_MISSING": dict(
        severity="error", link="hosting",
        title="CloudFront cannot read the private bucket",
        cause="The S3 origin has neither origin access control (OAC) nor an origin access identity, or the bucket policy "
              "lacks the matching grant (cloudfront.amazonaws.com with AWS:SourceArn of the distribution).",
        expected="OAC on the origin and a bucket-policy grant for this distribution",
        actual="what is missing",
        remediation="Attach an origin access control to the origin and add the s3:GetObject grant for the distribution to "
                    "the bucket policy."),
    "CLOUDFRONT_OAI_WITH_KMS": dict(
        severity="error", link="hosting",
        title="CloudFront reads an SSE-KMS bucket through a legacy OAI",
        cause="Origin access identities cannot read objects encrypted with SSE-KMS; CloudFront gets 403.",
        expected="origin access control (OAC) with a key policy granting cloudfront.amazonaws.com",
        actual="OAI and the bucket encryption",
        remediation="Switch the origin to origin access control and grant cloudfront.amazonaws.com kms:Decrypt in the key policy."),
    "ISSUER_BUCKET_NOT_FOUND": dict(
        severity="error", link="hosting",
        title="The issuer's S3 bucket does not exist",
        cause="The bucket named by the issuer URL (or by the CloudFront origin) does not exist: deleted, or a typo. Nothing "
              "is served, and anyone can create a bucket with that name and serve their own keys.",
        expected="an existing bucket holding the issuer documents",
        actual="NoSuchBucket and the bucket name",
        remediation="Recreate the bucket in your account and upload the issuer documents (ccoctl create-identity-provider "
                    "or this collection's publishing tasks), or move the issuer to a bucket you own."),
    "HOSTING_NOT_INSPECTED": dict(
        severity="info", link="hosting",
        title="The issuer's hosting was not inspected",
        cause="The issuer host is neither an S3 endpoint nor a CloudFront distribution of this account (own web server, "
              "another account's distribution, a non-S3 origin), so its access settings cannot be read through AWS APIs.",
        expected="an S3 bucket endpoint or a CloudFront distribution of this account",
        actual="the host (and what was looked for)",
        remediation="Nothing to do for a self-hosted issuer (issuer_probe checks anonymous reads); for another account's "
                    "distribution, run the check with that account's credentials."),
    # ------------------------------------------------------------ IAM
    "OIDC_PROVIDER_MISSING": dict(
        severity="error", link="iam_provider",
        title="No IAM OIDC provider for the issuer",
        cause="The account has no IAM OIDC identity provider whose URL equals the issuer minus https:// (host form, path, "
              "trailing slash and account must match). STS answers 'No OpenIDConnect provider found in your account'.",
        expected="an IAM OIDC provider for the issuer URL",
        actual="the providers found (URLs)",
        remediation="Create the IAM OIDC provider for the exact issuer URL (no trailing slash) with client ID openshift "
                    "(ccoctl create-identity-provider does it)."),
    "OIDC_PROVIDER_AUDIENCE_MISSING": dict(
        severity="error", link="iam_provider",
        title="The IAM OIDC provider does not list the token audience",
        cause="The provider's ClientIDList lacks the token's aud (openshift). STS answers 'Incorrect token audience'.",
        expected="the audience in ClientIDList",
        actual="the provider's ClientIDList",
        remediation="Add the audience (openshift) to the provider's client IDs."),
    "ROLE_NOT_FOUND": dict(
        severity="error", link="role_trust",
        title="The role does not exist",
        cause="The role ARN names no role in the account (deleted, typo, other account).",
        expected="an existing role",
        actual="the role ARN",
        remediation="Create the role (ccoctl create-iam-roles) or fix the role ARN in the credentials Secret."),
    "ROLE_TRUST_PROVIDER_MISMATCH": dict(
        severity="error", link="role_trust",
        title="The role trusts another OIDC provider",
        cause="The trust policy's Principal.Federated is not the provider ARN of this issuer (issuer moved, roles not "
              "rewritten). STS answers 'AccessDenied: Not authorized to perform sts:AssumeRoleWithWebIdentity'.",
        expected="arn:aws:iam::<account>:oidc-provider/<issuer host and path>",
        actual="the Federated principals of the trust policy",
        remediation="Rewrite the trust policy for the new provider (ccoctl create-iam-roles with the new issuer)."),
    "ROLE_TRUST_SUBJECT_MISMATCH": dict(
        severity="error", link="role_trust",
        title="The role's trust policy does not admit the service account",
        cause="The <issuer>:sub condition does not match system:serviceaccount:<namespace>:<name>, or uses the condition "
              "key of another issuer.",
        expected="<issuer host>:sub matching system:serviceaccount:<namespace>:<name>",
        actual="the sub conditions of the trust policy",
        remediation="Fix the :sub condition (key and value) of the trust policy."),
    "ROLE_TRUST_AUDIENCE_MISMATCH": dict(
        severity="error", link="role_trust",
        title="The role's trust policy rejects the token audience",
        cause="The trust policy has a <issuer>:aud condition that does not admit the token's aud (openshift), for example "
              "sts.amazonaws.com copied from an EKS policy. STS answers 'AccessDenied: Not authorized to perform "
              "sts:AssumeRoleWithWebIdentity'.",
        expected="<issuer host>:aud admitting the audience, or no :aud condition (ccoctl writes none)",
        actual="the :aud conditions of the trust policy",
        remediation="Change the :aud condition of the trust policy to the audience (openshift), or remove it."),
    # ------------------------------------------------------------ STS
    "STS_INVALID_IDENTITY_TOKEN": dict(
        severity="error", link="sts",
        title="STS rejected the token (InvalidIdentityToken)",
        cause="AssumeRoleWithWebIdentity returned InvalidIdentityToken: not a JWT, no provider for iss, wrong audience, or "
              "'Couldn't retrieve verification key' (issuer unreachable, private, slow, or no key verifies).",
        expected="credentials",
        actual="the STS error code and message",
        remediation="Run issuer_probe on the issuer and check the IAM provider; the other findings name the broken link."),
    "STS_ACCESS_DENIED": dict(
        severity="error", link="sts",
        title="STS denied the role (AccessDenied)",
        cause="The token was valid but the role's trust policy does not allow it (provider ARN or sub condition).",
        expected="credentials",
        actual="the STS error code and message",
        remediation="Fix the role trust policy (Federated principal and <issuer>:sub condition)."),
    "STS_EXPIRED_TOKEN": dict(
        severity="error", link="sts",
        title="STS says the token expired (ExpiredTokenException)",
        cause="The token's exp has passed, the token is older than STS accepts, or a clock is skewed.",
        expected="credentials",
        actual="the STS error code and message",
        remediation="Use a freshly projected token and check clock synchronisation."),
    "STS_IDP_COMMUNICATION_ERROR": dict(
        severity="error", link="sts",
        title="STS could not talk to the identity provider (IDPCommunicationError)",
        cause="STS could not reach the issuer in time; often transient, persistent when the issuer is slow.",
        expected="credentials",
        actual="the STS error code and message, and the number of attempts",
        remediation="Retry; if it persists, run issuer_probe and look at ISSUER_SLOW and the hosting findings."),
    "STS_IDP_REJECTED_CLAIM": dict(
        severity="error", link="sts",
        title="The identity provider rejected the claim (IDPRejectedClaim)",
        cause="STS reports that the identity provider rejected the token's claims.",
        expected="credentials",
        actual="the STS error code and message",
        remediation="Check the token's claims (aud, sub) and the provider configuration."),
    "STS_ERROR": dict(
        severity="error", link="sts",
        title="STS returned another error",
        cause="AssumeRoleWithWebIdentity failed with an error not covered by another code (ValidationError, "
              "RegionDisabledException, throttling after retries, network).",
        expected="credentials",
        actual="the STS error code and message",
        remediation="Read the STS message; check the region, the session duration against the role's MaxSessionDuration, "
                    "and network access to STS."),
    # ------------------------------------------------------------ other
    "CLUSTER_INSPECTION_FAILED": dict(
        severity="warning", link="other",
        title="A cluster-side check failed",
        cause="A read of the cluster (Kubernetes API: forbidden, not found, an error) or of the install directory failed, "
              "so that part of the chain was not checked; the other checks ran.",
        expected="a successful read",
        actual="the resource or file and the error",
        remediation="Use Kubernetes credentials that may read the named resource (get/list), or fix the named file."),
    "AWS_PERMISSION_MISSING": dict(
        severity="warning", link="other",
        title="An AWS-side check was skipped: permission denied",
        cause="The AWS credentials may not call one of the read-only APIs of the inspection (AccessDenied), so that part "
              "was not checked; the other checks ran.",
        expected="the read-only permission named in the finding",
        actual="the AWS error code and message",
        remediation="Grant the named read-only permission to the identity running the check."),
    "AWS_INSPECTION_FAILED": dict(
        severity="warning", link="other",
        title="An AWS-side check failed",
        cause="A read-only AWS call of the inspection failed for another reason than permissions (throttling after "
              "retries, a service error, the endpoint unreachable), so that part was not checked.",
        expected="a successful call",
        actual="the AWS error code and message",
        remediation="Retry; check the network path to the AWS endpoints and the region."),
    "AWS_CREDENTIALS_MISSING": dict(
        severity="info", link="other",
        title="No AWS credentials: AWS-side checks skipped",
        cause="No AWS credentials were found, so IAM, S3 and CloudFront could not be inspected; anonymous checks still ran.",
        expected="AWS credentials with read access to IAM, S3 and CloudFront",
        actual="what could not be inspected",
        remediation="Provide AWS credentials (profile, environment or module options) with read-only access to inspect "
                    "the AWS side."),
}

_LINK_RANK = dict((name, rank) for rank, name in enumerate(LINKS))
_SEVERITY_RANK = dict((name, rank) for rank, name in enumerate(SEVERITIES))

# ---------------------------------------------------------------- redaction
REDACTED = "<redacted>"

_PEM_PRIVATE = re.compile(
    r"-----BEGIN ([A-Z0-9 ]*)PRIVATE KEY( BLOCK)?-----.*?(-----END [A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----|\Z)",
    re.DOTALL)
# A JWS/JWE: base64url segments separated by dots, the first one a JSON object ("eyJ" = '{"').
_JWT_EYJ = re.compile(r"eyJ[A-Za-z0-9_-]*(?:\.[A-Za-z0-9_=-]*){1,4}")
# Any three long base64url segments (a token whose header does not start with eyJ).
_JWT_GENERIC = re.compile(r"(?<![A-Za-z0-9_-])[A-Za-z0-9_-]{20,}\.[A-Za-z0-9_-]{20,}\.[A-Za-z0-9_-]{16,}")
_AWS_SESSION_TOKEN = re.compile(r"(?:FwoGZXIvYXdz|IQoJb3JpZ2lu|FQoGZXIvYXdz|AQoDYXdz)[A-Za-z0-9/+=]{20,}")
# Bounded by characters of neither base64 nor base64url, so that a slice of a kid or a thumbprint never matches.
_AWS_ACCESS_KEY_ID = re.compile(r"(?<![A-Za-z0-9_-])(?:AKIA|ASIA|AIDA|AROA)[A-Z0-9]{16}(?![A-Za-z0-9_-])")
_FORTY = re.compile(r"(?<![A-Za-z0-9/+=_-])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=_-])")
# key=value / "key": "value" pairs whose key names a secret: any value is removed.
_KEY_VALUE = re.compile(
    r"(?i)((?:aws_)?(?:secret_access_key|secretaccesskey|session_token|sessiontoken|security_token|securitytoken|"
    r"x-amz-security-token|access_token|id_token|refresh_token|client_secret|password|passwd|api[_-]?key|"
    r"authorization|proxy-authorization)"
    r"[\"']?\s*[:=]\s*[\"']?)(?:(?:bearer|basic)\s+)?([^\s\"',;&}]+)")
# The bare words token/secret also occur in prose ("the token: ..."): only long values are removed.
_WEAK_KEY_VALUE = re.compile(r"(?i)((?:token|secret)[\"']?\s*[:=]\s*[\"']?)([^\s\"',;&}]{12,})")
_URL_USERINFO = re.compile(r"(?i)(\b[a-z][a-z0-9+.-]*://)[^/\s@:]*:[^/\s@]*@")


def _looks_like_secret_key(text):
    """True for a 40-character run that looks like an AWS secret access key (mixed case, not hex)."""
    return (any(c.isupper() for c in text) and any(c.islower() for c in text)
            and any(c.isdigit() or c in "/+" for c in text))


def redact(value):
    """Remove secrets from ``value`` (a string, or lists/dicts of strings, recursively).

    Removed: JWTs (compact JWS/JWE), PEM private key blocks, AWS access key IDs,
    secret access keys and session tokens, ``key=value`` pairs whose key names a
    secret (password, token, secret, authorization...), and user:password in URLs.
    Other types are returned unchanged.
    """
    if isinstance(value, dict):
        return dict((key, redact(item)) for key, item in value.items())
    if isinstance(value, (list, tuple)):
        return [redact(item) for item in value]
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if not isinstance(value, str):
        return value
    # No pattern can match a short text without ":", "=" or "eyJ" (the shortest other match is 20 characters).
    if len(value) < 20 and ":" not in value and "=" not in value and "eyJ" not in value:
        return value
    return _redact_text(value)


@functools.lru_cache(maxsize=8192)
def _redact_text(value):
    """:func:`redact` of one string (cached: a diagnosis repeats its ARNs, URLs and messages many times)."""
    text = _PEM_PRIVATE.sub("<redacted private key>", value)
    text = _URL_USERINFO.sub(r"\1" + REDACTED + "@", text)
    text = _KEY_VALUE.sub(lambda m: m.group(1) + REDACTED, text)
    text = _WEAK_KEY_VALUE.sub(lambda m: m.group(1) + REDACTED, text)
    text = _JWT_EYJ.sub("<redacted token>", text)
    text = _JWT_GENERIC.sub("<redacted token>", text)
    text = _AWS_SESSION_TOKEN.sub(REDACTED, text)
    text = _AWS_ACCESS_KEY_ID.sub(REDACTED, text)
    text = _FORTY.sub(lambda m: REDACTED if _looks_like_secret_key(m.group(0)) else m.group(0), text)
    return text


# ---------------------------------------------------------------- builders
def describe(code):
    """The catalogue entry of ``code`` (a dict); raises ``KeyError`` for an unknown code."""
    return CATALOGUE[code]


def finding(code, subject, message, expected=None, actual=None, remediation=None, severity=None):
    """Build a finding dict for ``code`` (which must be in :data:`CATALOGUE`).

    ``severity`` and ``remediation`` default to the catalogue's. Every string
    (also inside lists and dicts of ``expected``/``actual``) is redacted.
    """
    entry = CATALOGUE[code]
    severity = severity or entry["severity"]
    if severity not in SEVERITIES:
        raise ValueError("unknown severity %r" % (severity,))
    return {
        "code": code,
        "severity": severity,
        "link": entry["link"],
        "subject": redact(subject),
        "message": redact(message),
        "expected": redact(expected),
        "actual": redact(actual),
        "remediation": redact(remediation or entry["remediation"]),
    }


def worst_severity(findings):
    """The worst severity among ``findings`` ('error', 'warning', 'info'), or None when there are none."""
    ranks = [_SEVERITY_RANK.get(item.get("severity"), len(SEVERITIES)) for item in findings]
    ranks = [rank for rank in ranks if rank < len(SEVERITIES)]
    return SEVERITIES[min(ranks)] if ranks else None


def has_errors(findings):
    """True when a finding has severity 'error'."""
    return any(item.get("severity") == "error" for item in findings)


def sort_findings(findings):
    """A new list of ``findings`` in chain order (:data:`LINKS`), then worst severity first; stable otherwise."""
    def key(indexed):
        index, item = indexed
        link = item.get("link") or CATALOGUE.get(item.get("code"), {}).get("link", "other")
        return (_LINK_RANK.get(link, len(LINKS)), _SEVERITY_RANK.get(item.get("severity"), len(SEVERITIES)), index)
    return [item for _index, item in sorted(enumerate(findings), key=key)]
