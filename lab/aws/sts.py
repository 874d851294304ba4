"""STS ``AssumeRoleWithWebIdentity`` as AWS validates it (field notes §2).

Checks, in AWS's (reconstructed) order, each with AWS's code, HTTP status and
exact message:

1. request parameters (``ValidationError``);
2. the token parses as a JWT signed with a supported algorithm;
3. an IAM OIDC provider of the role's account has ``Url`` equal to ``iss``
   minus ``https://``, byte for byte;
4. ``aud`` is one of the provider's client IDs;
5. discovery then ``jwks_uri`` are fetched through the lab's public internet
   (any failure, non-200, a response slower than ``idp_timeout`` (5 s),
   invalid JSON, a discovery ``issuer`` different from ``iss``, more than 100
   keys, or no key verifying the signature: "Couldn't retrieve verification
   key...");
6. ``exp`` against the lab clock (``ExpiredTokenException``);
7. the role exists and its trust policy allows the call (``AccessDenied``);
8. ``DurationSeconds`` within the role's ``MaxSessionDuration``.

On success moto mints the credentials; the response adds
``SubjectFromWebIdentityToken``, ``Audience`` and ``Provider`` (the provider
ARN, as real responses show).
"""

import base64
import json
import re
from xml.sax.saxutils import escape

import jwt
from moto.iam.models import iam_backends
from moto.sts.models import sts_backends

from lab.aws import ACCOUNT_ID, PARTITION, policy as iam_policy
from lab.aws.responses import query_error, query_result

COULDNT_RETRIEVE = ("Couldn't retrieve verification key from your identity provider,  "
                    "please reference AssumeRoleWithWebIdentity documentation for requirements")
NOT_A_JWT = "The ID Token provided is not a valid JWT. (You may see this error if you sent an Access Token)"
NOT_AUTHORIZED = "Not authorized to perform sts:AssumeRoleWithWebIdentity"
DURATION_EXCEEDS = "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."
IDP_UNREACHABLE = ("The request could not be fulfilled because the identity provider (IDP) that was asked to "
                   "verify the incoming identity token could not be reached. This is often a transient error "
                   "caused by network conditions. Retry the request a limited number of times and wait between "
                   "attempts.")
# AWS documents the IDPRejectedClaim error (botocore model) but no message text seen in the wild:
# the lab answers with the model's description (a choice, unverified).
IDP_REJECTED_CLAIM = ("The identity provider (IdP) reported that authentication failed. This might be because the "
                      "claim is invalid.")
SUPPORTED_ALGORITHMS = ("RS256", "RS384", "RS512", "ES256", "ES384", "ES512")
_SESSION_NAME = re.compile(r"^[\w+=,.@-]*$")
_ROLE_ARN = re.compile(r"^arn:aws[\w-]*:iam::(\d{12}):role/(?:.*/)?([\w+=,.@-]+)$")


class StsError(Exception):
    """An STS error answer."""

    def __init__(self, code, message, status=400):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status


def _invalid(message):
    return StsError("InvalidIdentityToken", message, 400)


def _b64json(segment):
    padded = segment + "=" * (-len(segment) % 4)
    value = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    if not isinstance(value, dict):
        raise ValueError("not an object")
    return value


def _validation(field, value, constraint):
    shown = f"Value '{value}' at" if value is not None else "Value at"
    return StsError("ValidationError",
                    f"1 validation error detected: {shown} '{field}' failed to satisfy constraint: {constraint}")


class WebIdentityValidator:
    """Answers ``AssumeRoleWithWebIdentity`` for the AWS front.

    ``fetch(url, timeout, caller)`` is the lab internet's in-process fetch;
    ``clock`` a :class:`lab.clock.Clock`. ``idp_timeout`` is AWS's 5 s limit
    on the identity provider's answers (tests lower it instead of sleeping).
    """

    def __init__(self, fetch, clock, faults=None, idp_timeout=5.0, max_keys=100, default_account=ACCOUNT_ID):
        self.fetch = fetch
        self.clock = clock
        self.faults = faults
        self.idp_timeout = float(idp_timeout)
        self.max_keys = int(max_keys)
        self.default_account = default_account

    # ------------------------------------------------------------ entry point
    def handle(self, params):
        """Validate one call (``params`` = the query parameters) and return a Response."""
        try:
            result = self.validate(params)
        except StsError as error:
            return query_error("sts", error.code, error.message, error.status)
        return query_result("sts", "AssumeRoleWithWebIdentity", result)

    # ------------------------------------------------------------ steps
    @staticmethod
    def _check_parameters(params):
        role_arn = params.get("RoleArn")
        session = params.get("RoleSessionName")
        token = params.get("WebIdentityToken")
        for field, value in (("roleArn", role_arn), ("roleSessionName", session), ("webIdentityToken", token)):
            if value is None:
                raise _validation(field, None, "Member must not be null")
        if not 20 <= len(role_arn) <= 2048:
            raise _validation("roleArn", role_arn, "Member must have length greater than or equal to 20")
        if not 2 <= len(session) <= 64 or not _SESSION_NAME.match(session):
            raise _validation("roleSessionName", session,
                              "Member must satisfy regular expression pattern: [\\w+=,.@-]*")
        if len(token) < 4:
            raise _validation("webIdentityToken", None, "Member must have length greater than or equal to 4")
        if len(token) > 20000:
            raise _validation("webIdentityToken", None, "Member must have length less than or equal to 20000")
        duration = params.get("DurationSeconds")
        if duration is not None:
            try:
                duration = int(duration)
            except ValueError as exc:
                raise _validation("durationSeconds", params.get("DurationSeconds"),
                                  "Member must have value greater than or equal to 900") from exc
            if duration < 900:
                raise _validation("durationSeconds", duration, "Member must have value greater than or equal to 900")
            if duration > 43200:
                raise _validation("durationSeconds", duration, "Member must have value less than or equal to 43200")
        return role_arn, session, token, duration or 3600

    @staticmethod
    def _parse(token):
        parts = token.split(".")
        if len(parts) != 3 or not all(parts[:2]):
            raise _invalid(NOT_A_JWT)
        try:
            header = _b64json(parts[0])
            claims = _b64json(parts[1])
            base64.urlsafe_b64decode(parts[2] + "=" * (-len(parts[2]) % 4))
        except (ValueError, UnicodeError) as exc:
            raise _invalid(NOT_A_JWT) from exc
        if header.get("alg") not in SUPPORTED_ALGORITHMS or not parts[2]:
            raise _invalid(NOT_A_JWT)
        return header, claims

    def _provider(self, account_id, issuer):
        if not isinstance(issuer, str) or not issuer:
            raise _invalid("Missing a required claim: iss")
        url = issuer[len("https://"):] if issuer.startswith("https://") else None
        backend = iam_backends[account_id][PARTITION]
        for provider in list(backend.open_id_providers.values()):
            if url is not None and provider.url == url:
                return provider
        raise _invalid(f"No OpenIDConnect provider found in your account for {issuer}")

    @staticmethod
    def _audience(provider, claims):
        if "aud" not in claims:
            raise _invalid("Missing a required claim: aud")
        for aud in iam_policy.as_list(claims["aud"]):
            if aud in provider.client_id_list:
                return aud
        raise _invalid("Incorrect token audience")

    def _get_json(self, url):
        try:
            result = self.fetch(url, timeout=self.idp_timeout, caller="sts")
        except Exception as exc:  # pylint: disable=broad-except  # any fetch failure is AWS's one message
            raise _invalid(COULDNT_RETRIEVE) from exc
        if result.status != 200 or result.elapsed > self.idp_timeout:
            raise _invalid(COULDNT_RETRIEVE)
        try:
            document = json.loads(result.body)
        except (ValueError, UnicodeError) as exc:
            raise _invalid(COULDNT_RETRIEVE) from exc
        if not isinstance(document, dict):
            raise _invalid(COULDNT_RETRIEVE)
        return document

    def _keys(self, issuer):
        discovery = self._get_json(issuer + "/.well-known/openid-configuration")
        jwks_uri = discovery.get("jwks_uri")
        if discovery.get("issuer") != issuer or not isinstance(jwks_uri, str) or not jwks_uri.startswith("https://"):
            raise _invalid(COULDNT_RETRIEVE)
        keys = self._get_json(jwks_uri).get("keys")
        if not isinstance(keys, list) or len(keys) > self.max_keys:
            raise _invalid(COULDNT_RETRIEVE)
        return keys

    @staticmethod
    def _verify(token, header, keys):
        kid = header.get("kid")
        candidates = [k for k in keys if isinstance(k, dict) and (kid is None or k.get("kid") == kid)]
        for jwk in candidates:
            try:
                key = jwt.PyJWK(jwk, algorithm=header["alg"])
                jwt.decode(token, key=key.key, algorithms=[header["alg"]],
                           options={"verify_signature": True, "verify_exp": False, "verify_nbf": False,
                                    "verify_iat": False, "verify_aud": False, "verify_iss": False})
                return
            except (jwt.PyJWTError, ValueError, TypeError, KeyError):
                continue
        raise _invalid(COULDNT_RETRIEVE)

    def _check_time(self, claims):
        exp = claims.get("exp")
        if exp is None:
            raise _invalid("Missing a required claim: exp")
        try:
            exp = int(exp)
        except (TypeError, ValueError) as exc:
            raise _invalid(NOT_A_JWT) from exc
        now = int(self.clock.now())
        if now >= exp:
            raise StsError("ExpiredTokenException",
                           f"Token expired: current date/time {now} must be before the expiration date/time{exp}")

    @staticmethod
    def _role(account_id, role_arn, provider, claims, audience):
        backend = iam_backends[account_id][PARTITION]
        try:
            role = backend.get_role_by_arn(role_arn)
        except Exception as exc:  # pylint: disable=broad-except  # moto raises IAMNotFoundException
            raise StsError("AccessDenied", NOT_AUTHORIZED, 403) from exc
        prefix = provider.url
        context = {f"{prefix}:aud".lower(): audience, "aws:federatedprovider": provider.arn}
        if "sub" in claims:
            context[f"{prefix}:sub".lower()] = claims["sub"]
        if "amr" in claims:
            context[f"{prefix}:amr".lower()] = claims["amr"]
        principal = {"type": "Federated", "id": provider.arn}
        verdict = iam_policy.evaluate(role.assume_role_policy_document, principal,
                                      "sts:AssumeRoleWithWebIdentity", None, context)
        if verdict != "allow":
            raise StsError("AccessDenied", NOT_AUTHORIZED, 403)
        return role

    def validate(self, params):
        """Run every check; return the inner XML of the result or raise :class:`StsError`."""
        role_arn, session, token, duration = self._check_parameters(params)
        action = self.faults.take("sts", kinds=("idp_communication", "idp_rejected_claim")).action if self.faults is not None else None
        if action == "idp_communication":
            raise StsError("IDPCommunicationError", IDP_UNREACHABLE, 400)
        if action == "idp_rejected_claim":
            raise StsError("IDPRejectedClaim", IDP_REJECTED_CLAIM, 403)
        match = _ROLE_ARN.match(role_arn)
        account_id = match.group(1) if match else self.default_account
        header, claims = self._parse(token)
        issuer = claims.get("iss")
        provider = self._provider(account_id, issuer)
        audience = self._audience(provider, claims)
        self._verify(token, header, self._keys(issuer))
        self._check_time(claims)
        if match is None:
            raise StsError("AccessDenied", NOT_AUTHORIZED, 403)
        role = self._role(account_id, role_arn, provider, claims, audience)
        if duration > int(role.max_session_duration or 3600):
            raise StsError("ValidationError", DURATION_EXCEEDS)
        assumed = sts_backends[account_id][PARTITION].assume_role(
            region_name="us-east-1", role_session_name=session, role_arn=role_arn,
            policy=params.get("Policy"), duration=duration, external_id=None)
        expiration = assumed.expiration.strftime("%Y-%m-%dT%H:%M:%SZ")
        return (
            f"<Credentials><AccessKeyId>{assumed.access_key_id}</AccessKeyId>"
            f"<SecretAccessKey>{assumed.secret_access_key}</SecretAccessKey>"
            f"<SessionToken>{assumed.session_token}</SessionToken>"
            f"<Expiration>{expiration}</Expiration></Credentials>"
            f"<SubjectFromWebIdentityToken>{escape(str(claims.get('sub', '')))}</SubjectFromWebIdentityToken>"
            f"<AssumedRoleUser><AssumedRoleId>{escape(assumed.user_id)}</AssumedRoleId>"
            f"<Arn>{escape(assumed.arn)}</Arn></AssumedRoleUser>"
            f"<Provider>{escape(provider.arn)}</Provider>"
            f"<Audience>{escape(audience)}</Audience>"
        )
