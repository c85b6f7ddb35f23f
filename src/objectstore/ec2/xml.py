"""EC2 Query API documents for the image calls (API version 2016-11-15)."""

from __future__ import annotations

from typing import Iterable
from xml.sax.saxutils import escape

from objectstore.storage.model import Image

NS = "http://ec2.amazonaws.com/doc/2016-11-15/"
HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n'


def el(name: str, value: object) -> str:
    return f"<{name}>{escape(str(value))}</{name}>"


def response(action: str, request_id: str, inner: str) -> bytes:
    return (f'{HEAD}<{action}Response xmlns="{NS}">{el("requestId", request_id)}{inner}'
            f"</{action}Response>").encode()


def error(code: str, message: str, request_id: str) -> bytes:
    return (f"{HEAD}<Response><Errors><Error>{el('Code', code)}{el('Message', message)}"
            f"</Error></Errors>{el('RequestID', request_id)}</Response>").encode()


def image_item(im: Image, created: str) -> str:
    s = (el("imageId", im.image_id) + el("imageLocation", im.location)
         + el("imageState", im.state) + el("imageOwnerId", im.owner)
         + el("creationDate", created) + el("isPublic", "true" if im.is_public else "false")
         + el("architecture", im.architecture) + el("imageType", im.image_type))
    if im.kernel_id:
        s += el("kernelId", im.kernel_id)
    if im.ramdisk_id:
        s += el("ramdiskId", im.ramdisk_id)
    if im.name:
        s += el("name", im.name)
    if im.description:
        s += el("description", im.description)
    if im.state == "failed":
        s += f"<stateReason>{el('code', 'Client.InvalidManifest')}" \
             f"{el('message', im.reason)}</stateReason>"
    s += el("rootDeviceType", "instance-store")
    s += "<blockDeviceMapping>" + "".join(
        f"<item>{el('virtualName', v)}{el('deviceName', d)}</item>"
        for v, d in im.block_devices) + "</blockDeviceMapping>"
    s += el("virtualizationType", "paravirtual") + el("hypervisor", "xen")
    return f"<item>{s}</item>"


def images_set(items: Iterable[str]) -> str:
    return f"<imagesSet>{''.join(items)}</imagesSet>"
