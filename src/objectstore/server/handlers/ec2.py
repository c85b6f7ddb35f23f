"""EC2 Query API subset for images: RegisterImage, DescribeImages, DeregisterImage,
ModifyImageAttribute, DescribeImageAttribute — so `aws ec2 ... --endpoint-url` and
boto3's ec2 client can use the registry."""

from __future__ import annotations

import fnmatch
from typing import Callable, Mapping

from objectstore.ec2 import query
from objectstore.ec2 import xml as ex
from objectstore.query_errors import QueryError
from objectstore.s3 import actions
from objectstore.s3.http import iso8601
from objectstore.server.handlers.common import Ctx
from objectstore.server.request import Response
from objectstore.service import access
from objectstore.service.registry import RegisterRequest, Registry, RegistryError
from objectstore.storage.model import Image, Principal

CODES = {
    "NotFound": ("InvalidAMIID.NotFound", 400),
    "Malformed": ("InvalidAMIID.Malformed", 400),
    "Duplicate": ("InvalidAMIID.Duplicate", 400),
    "InvalidManifest": ("InvalidManifest", 400),
    "AccessDenied": ("UnauthorizedOperation", 403),
    "InvalidParameter": ("InvalidParameterValue", 400),
    "InvalidState": ("IncorrectState", 400),
    "TooLarge": ("InvalidManifest", 400),
    "QuotaExceeded": ("ResourceLimitExceeded", 400),
}


class Ec2Error(QueryError):
    """An error of the EC2 Query API."""


def error_response(code: str, message: str, status: int, request_id: str) -> Response:
    return Response(status, [("Content-Type", "text/xml")],
                    ex.error(code, message, request_id))


async def ec2(ctx: Ctx, params: Mapping[str, str]) -> Response:
    action = params.get("Action", "")
    handler = ACTIONS.get(action)
    try:
        if handler is None:
            raise Ec2Error("InvalidAction", f"The action {action or '(none)'} is not valid "
                           "for this web service.")
        if ctx.principal is None:
            raise Ec2Error("AuthFailure", "AWS was not able to validate the provided access "
                           "credentials", 401)
        assert ctx.registry is not None
        resource = actions.image_arn(ctx.settings.region, params.get("ImageId"))
        if not access.identity_allows(ctx.principal, actions.ec2_action(action), resource):
            raise Ec2Error("UnauthorizedOperation", "You are not authorized to perform this "
                           f"operation ({actions.ec2_action(action)}).", 403)
        inner = await handler(ctx.registry, ctx.principal, params)
    except Ec2Error as err:
        return error_response(err.code, err.message, err.status, ctx.request_id)
    except RegistryError as err:
        code, status = CODES.get(err.code, ("InvalidParameterValue", 400))
        return error_response(code, err.message, status, ctx.request_id)
    return Response(200, [("Content-Type", "text/xml")],
                    ex.response(action, ctx.request_id, inner))


def _required(params: Mapping[str, str], name: str) -> str:
    value = params.get(name)
    if not value:
        raise Ec2Error("MissingParameter", f"The request must contain the parameter {name}")
    return value


async def register_image(reg: Registry, p: Principal, params: Mapping[str, str]) -> str:
    req = RegisterRequest(
        location=_required(params, "ImageLocation"), name=params.get("Name", ""),
        description=params.get("Description", ""), architecture=params.get("Architecture"),
        kernel_id=params.get("KernelId"), ramdisk_id=params.get("RamdiskId"))
    im = await reg.register(p, req)
    return ex.el("imageId", im.image_id)


def _matches(values: list[str], actual: str) -> bool:
    return any(fnmatch.fnmatchcase(actual, v) for v in values)


FILTERS: dict[str, Callable[[Image], str]] = {
    "name": lambda im: im.name,
    "state": lambda im: im.state,
    "image-type": lambda im: im.image_type,
    "is-public": lambda im: "true" if im.is_public else "false",
    "architecture": lambda im: im.architecture,
    "image-id": lambda im: im.image_id,
    "owner-id": lambda im: im.owner,
    "kernel-id": lambda im: im.kernel_id or "",
    "ramdisk-id": lambda im: im.ramdisk_id or "",
    "description": lambda im: im.description,
    "manifest-location": lambda im: im.location,
}


async def describe_images(reg: Registry, p: Principal, params: Mapping[str, str]) -> str:
    ids = query.indexed(params, "ImageId")
    if ids:
        images = [reg.get(p, i) for i in ids]
    else:
        images = reg.visible(p)
    owners = query.indexed(params, "Owner")
    if owners:
        wanted = {p.account_id if o == "self" else o for o in owners}
        images = [im for im in images if im.owner in wanted]
    executable = query.indexed(params, "ExecutableBy")
    if executable:
        images = [im for im in images if
                  ("all" in executable and im.is_public)
                  or ("self" in executable and (im.is_public or im.owner == p.account_id))
                  or im.owner in executable]
    for name, values in query.filters(params).items():
        get = FILTERS.get(name)
        if get is None:
            raise Ec2Error("InvalidParameterValue", f"The filter '{name}' is invalid")
        images = [im for im in images if _matches(values, get(im))]
    return ex.images_set(ex.image_item(im, iso8601(im.created)) for im in images)


async def deregister_image(reg: Registry, p: Principal, params: Mapping[str, str]) -> str:
    await reg.deregister(p, _required(params, "ImageId"))
    return "<return>true</return>"


async def modify_image_attribute(reg: Registry, p: Principal, params: Mapping[str, str]) -> str:
    image_id = _required(params, "ImageId")
    attribute = params.get("Attribute", "")
    adds = query.launch_permission_groups(params, "Add")
    removes = query.launch_permission_groups(params, "Remove")
    op = params.get("OperationType")
    if op in ("add", "remove"):
        groups = query.indexed(params, "UserGroup")
        (adds if op == "add" else removes).extend(groups)
    description = params.get("Description.Value", params.get("Description"))
    if any(k.startswith("LaunchPermission.") and k.endswith(".UserId") for k in params) \
            or any(k.startswith("UserId.") for k in params):
        raise Ec2Error("InvalidParameterValue",
                       "only the group 'all' is supported in launch permissions")
    if adds or removes:
        if attribute not in ("", "launchPermission"):
            raise Ec2Error("InvalidParameterCombination",
                           "launch permissions go with Attribute=launchPermission")
        if set(adds) | set(removes) != {"all"}:
            raise Ec2Error("InvalidParameterValue",
                           "only the group 'all' is supported in launch permissions")
        await reg.set_public(p, image_id, bool(adds))
    elif description is not None:
        await reg.update(p, image_id, description=description)
    else:
        raise Ec2Error("MissingParameter", "give a launchPermission change or a description")
    return "<return>true</return>"


async def describe_image_attribute(reg: Registry, p: Principal,
                                   params: Mapping[str, str]) -> str:
    im = reg.owned(p, _required(params, "ImageId"))
    attribute = _required(params, "Attribute")
    out = ex.el("imageId", im.image_id)
    if attribute == "launchPermission":
        items = "<item><group>all</group></item>" if im.is_public else ""
        out += f"<launchPermission>{items}</launchPermission>"
    elif attribute == "description":
        out += f"<description>{ex.el('value', im.description)}</description>"
    elif attribute == "kernel":
        out += f"<kernel>{ex.el('value', im.kernel_id or '')}</kernel>"
    elif attribute == "ramdisk":
        out += f"<ramdisk>{ex.el('value', im.ramdisk_id or '')}</ramdisk>"
    elif attribute == "blockDeviceMapping":
        out += "<blockDeviceMapping>" + "".join(
            f"<item>{ex.el('virtualName', v)}{ex.el('deviceName', d)}</item>"
            for v, d in im.block_devices) + "</blockDeviceMapping>"
    else:
        raise Ec2Error("InvalidParameterValue", f"unsupported attribute {attribute}")
    return out


ACTIONS = {
    "RegisterImage": register_image,
    "DescribeImages": describe_images,
    "DeregisterImage": deregister_image,
    "ModifyImageAttribute": modify_image_attribute,
    "DescribeImageAttribute": describe_image_attribute,
}
