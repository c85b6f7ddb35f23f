"""What a policy may name: S3's actions (with the resource each applies to) and condition keys.

Taken from AWS's service authorization reference, "Actions, resources, and condition keys
for Amazon S3" (every action, not only those objectstore implements, so that real-world
policies parse), plus the EC2 image actions of objectstore's image registry. Pure data.
"""

from __future__ import annotations

from typing import Final, Literal

Kind = Literal["bucket", "object", "other"]

# Actions whose resource type is the bucket (arn:aws:s3:::bucket).
BUCKET_ACTIONS: Final[tuple[str, ...]] = (
    "AllowVendedLogDeliveryForResource", "CreateBucket", "CreateBucketMetadataTableConfiguration",
    "DeleteBucket", "DeleteBucketMetadataTableConfiguration", "DeleteBucketPolicy",
    "DeleteBucketWebsite", "GetAccelerateConfiguration", "GetAnalyticsConfiguration",
    "GetBucketAbac", "GetBucketAcl", "GetBucketCORS", "GetBucketLocation", "GetBucketLogging",
    "GetBucketMetadataTableConfiguration", "GetBucketNotification",
    "GetBucketObjectLockConfiguration", "GetBucketOwnershipControls", "GetBucketPolicy",
    "GetBucketPolicyStatus", "GetBucketPublicAccessBlock", "GetBucketRequestPayment",
    "GetBucketTagging", "GetBucketVersioning", "GetBucketWebsite", "GetEncryptionConfiguration",
    "GetIntelligentTieringConfiguration", "GetInventoryConfiguration",
    "GetLifecycleConfiguration", "GetMetricsConfiguration", "GetReplicationConfiguration",
    "ListBucket", "ListBucketMultipartUploads", "ListBucketVersions", "ListTagsForResource",
    "PauseReplication", "PutAccelerateConfiguration", "PutAnalyticsConfiguration",
    "PutBucketAbac", "PutBucketAcl", "PutBucketCORS", "PutBucketLogging", "PutBucketNotification",
    "PutBucketObjectLockConfiguration", "PutBucketOwnershipControls", "PutBucketPolicy",
    "PutBucketPublicAccessBlock", "PutBucketRequestPayment", "PutBucketTagging",
    "PutBucketVersioning", "PutBucketWebsite", "PutEncryptionConfiguration",
    "PutIntelligentTieringConfiguration", "PutInventoryConfiguration",
    "PutLifecycleConfiguration", "PutMetricsConfiguration", "PutReplicationConfiguration",
    "TagResource", "UntagResource", "UpdateBucketMetadataAnnotationTableConfiguration",
    "UpdateBucketMetadataInventoryTableConfiguration",
    "UpdateBucketMetadataJournalTableConfiguration",
)

# Actions whose resource type is an object (arn:aws:s3:::bucket/key).
OBJECT_ACTIONS: Final[tuple[str, ...]] = (
    "AbortMultipartUpload", "BypassGovernanceRetention", "DeleteObject", "DeleteObjectAnnotation",
    "DeleteObjectTagging", "DeleteObjectVersion", "DeleteObjectVersionAnnotation",
    "DeleteObjectVersionTagging", "GetObject", "GetObjectAcl", "GetObjectAnnotation",
    "GetObjectAttributes", "GetObjectLegalHold", "GetObjectRetention", "GetObjectTagging",
    "GetObjectTorrent", "GetObjectVersion", "GetObjectVersionAcl", "GetObjectVersionAnnotation",
    "GetObjectVersionAnnotationForReplication", "GetObjectVersionAttributes",
    "GetObjectVersionForReplication", "GetObjectVersionTagging", "GetObjectVersionTorrent",
    "InitiateReplication", "ListMultipartUploadParts", "ListObjectAnnotations",
    "ListObjectVersionAnnotations", "ObjectOwnerOverrideToBucketOwner", "PutObject",
    "PutObjectAcl", "PutObjectAnnotation", "PutObjectLegalHold", "PutObjectRetention",
    "PutObjectTagging", "PutObjectVersionAcl", "PutObjectVersionAnnotation",
    "PutObjectVersionTagging", "ReplicateDelete", "ReplicateObject", "ReplicateObjectAnnotation",
    "ReplicateTags", "RestoreObject", "UpdateObjectEncryption",
)

# Actions on account-level resources, access points, jobs, Storage Lens...: they apply to no
# bucket or object, so a bucket policy cannot grant them.
OTHER_ACTIONS: Final[tuple[str, ...]] = (
    "AssociateAccessGrantsIdentityCenter", "CreateAccessGrant", "CreateAccessGrantsInstance",
    "CreateAccessGrantsLocation", "CreateAccessPoint", "CreateAccessPointForObjectLambda",
    "CreateJob", "CreateMultiRegionAccessPoint", "CreateStorageLensGroup", "DeleteAccessGrant",
    "DeleteAccessGrantsInstance", "DeleteAccessGrantsInstanceResourcePolicy",
    "DeleteAccessGrantsLocation", "DeleteAccessPoint", "DeleteAccessPointForObjectLambda",
    "DeleteAccessPointPolicy", "DeleteAccessPointPolicyForObjectLambda", "DeleteJobTagging",
    "DeleteMultiRegionAccessPoint", "DeleteStorageLensConfiguration",
    "DeleteStorageLensConfigurationTagging", "DeleteStorageLensGroup", "DescribeJob",
    "DescribeMultiRegionAccessPointOperation", "DissociateAccessGrantsIdentityCenter",
    "GetAccessGrant", "GetAccessGrantsInstance", "GetAccessGrantsInstanceForPrefix",
    "GetAccessGrantsInstanceResourcePolicy", "GetAccessGrantsLocation", "GetAccessPoint",
    "GetAccessPointConfigurationForObjectLambda", "GetAccessPointForObjectLambda",
    "GetAccessPointPolicy", "GetAccessPointPolicyForObjectLambda", "GetAccessPointPolicyStatus",
    "GetAccessPointPolicyStatusForObjectLambda", "GetAccountPublicAccessBlock", "GetDataAccess",
    "GetJobTagging", "GetMultiRegionAccessPoint", "GetMultiRegionAccessPointPolicy",
    "GetMultiRegionAccessPointPolicyStatus", "GetMultiRegionAccessPointRoutes",
    "GetStorageLensConfiguration", "GetStorageLensConfigurationTagging",
    "GetStorageLensDashboard", "GetStorageLensGroup", "ListAccessGrants",
    "ListAccessGrantsInstances", "ListAccessGrantsLocations", "ListAccessPoints",
    "ListAccessPointsForObjectLambda", "ListAllMyBuckets", "ListCallerAccessGrants", "ListJobs",
    "ListMultiRegionAccessPoints", "ListStorageLensConfigurations", "ListStorageLensGroups",
    "PutAccessGrantsInstanceResourcePolicy", "PutAccessPointConfigurationForObjectLambda",
    "PutAccessPointPolicy", "PutAccessPointPolicyForObjectLambda",
    "PutAccessPointPublicAccessBlock", "PutAccountPublicAccessBlock", "PutJobTagging",
    "PutMultiRegionAccessPointPolicy", "PutStorageLensConfiguration",
    "PutStorageLensConfigurationTagging", "SubmitMultiRegionAccessPointRoutes",
    "UpdateAccessGrantsLocation", "UpdateJobPriority", "UpdateJobStatus",
    "UpdateStorageLensGroup",
)

# The EC2 API actions of objectstore's image registry (identity policies only).
EC2_ACTIONS: Final[tuple[str, ...]] = (
    "DeregisterImage", "DescribeImageAttribute", "DescribeImages", "ModifyImageAttribute",
    "RegisterImage", "ResetImageAttribute",
)

# S3's own condition keys, lower case.
S3_CONDITION_KEYS: Final[frozenset[str]] = frozenset((
    "aws:tagkeys", "s3:accessgrantscope", "s3:accessgrantsinstancearn",
    "s3:accessgrantslocationscope", "s3:accesspointnetworkorigin", "s3:annotation-prefix",
    "s3:authtype", "s3:dataaccesspointaccount", "s3:dataaccesspointarn", "s3:delimiter",
    "s3:deliverysourcearn", "s3:destinationregion", "s3:existingjoboperation",
    "s3:existingjobpriority", "s3:if-match", "s3:if-none-match",
    "s3:inventoryaccessibleoptionalfields", "s3:isreplicationpauserequest",
    "s3:jobsuspendedcause", "s3:locationconstraint", "s3:logtype", "s3:max-annotation-results",
    "s3:max-keys", "s3:object-lock-event-hold", "s3:object-lock-event-hold-duration-days",
    "s3:object-lock-legal-hold", "s3:object-lock-mode", "s3:object-lock-remaining-retention-days",
    "s3:object-lock-retain-until-date", "s3:objectcreationoperation", "s3:prefix",
    "s3:requestjoboperation", "s3:requestjobpriority", "s3:requestobjecttagkeys",
    "s3:resourceaccount", "s3:resourcearnbeingauthorized", "s3:signatureage",
    "s3:signatureversion", "s3:tlsversion", "s3:versionid", "s3:x-amz-acl",
    "s3:x-amz-bucket-namespace", "s3:x-amz-content-sha256", "s3:x-amz-copy-source",
    "s3:x-amz-grant-full-control", "s3:x-amz-grant-read", "s3:x-amz-grant-read-acp",
    "s3:x-amz-grant-write", "s3:x-amz-grant-write-acp", "s3:x-amz-metadata-directive",
    "s3:x-amz-object-annotation-directive", "s3:x-amz-object-if-match",
    "s3:x-amz-object-ownership", "s3:x-amz-server-side-encryption",
    "s3:x-amz-server-side-encryption-aws-kms-key-id",
    "s3:x-amz-server-side-encryption-customer-algorithm", "s3:x-amz-storage-class",
    "s3:x-amz-website-redirect-location",
))

# Condition keys with a tag-key suffix (``s3:ExistingObjectTag/<key>``), lower case, up to
# and including the slash.
TAG_CONDITION_KEYS: Final[tuple[str, ...]] = (
    "aws:requesttag/", "aws:resourcetag/", "s3:accesspointtag/", "s3:buckettag/",
    "s3:existingobjecttag/", "s3:requestobjecttag/",
)


# The actions of the access point / network-origin condition keys (one list in AWS's table)
_ACCESS_POINT_KEY_ACTIONS: Final[tuple[str, ...]] = (
    "AbortMultipartUpload", "BypassGovernanceRetention",
    "CreateAccessPoint", "CreateAccessPointForObjectLambda", "CreateMultiRegionAccessPoint",
    "DeleteAccessPoint", "DeleteAccessPointForObjectLambda", "DeleteAccessPointPolicy",
    "DeleteAccessPointPolicyForObjectLambda", "DeleteMultiRegionAccessPoint",
    "DeleteObject", "DeleteObjectAnnotation", "DeleteObjectTagging", "DeleteObjectVersion",
    "DeleteObjectVersionAnnotation", "DeleteObjectVersionTagging", "GetAccessPoint",
    "GetAccessPointConfigurationForObjectLambda", "GetAccessPointForObjectLambda",
    "GetAccessPointPolicy", "GetAccessPointPolicyForObjectLambda",
    "GetAccessPointPolicyStatus", "GetAccessPointPolicyStatusForObjectLambda",
    "GetBucketAcl", "GetBucketCORS", "GetBucketLocation", "GetBucketNotification",
    "GetBucketPolicy", "GetMultiRegionAccessPoint", "GetMultiRegionAccessPointPolicy",
    "GetMultiRegionAccessPointPolicyStatus", "GetMultiRegionAccessPointRoutes", "GetObject",
    "GetObjectAcl", "GetObjectAnnotation", "GetObjectAttributes", "GetObjectLegalHold",
    "GetObjectRetention", "GetObjectTagging", "GetObjectVersion", "GetObjectVersionAcl",
    "GetObjectVersionAnnotation", "GetObjectVersionAttributes", "GetObjectVersionTagging",
    "ListBucket", "ListBucketMultipartUploads", "ListBucketVersions",
    "ListMultipartUploadParts", "ListObjectAnnotations", "ListObjectVersionAnnotations",
    "ListTagsForResource", "PutAccessPointConfigurationForObjectLambda",
    "PutAccessPointPolicy", "PutAccessPointPolicyForObjectLambda",
    "PutMultiRegionAccessPointPolicy", "PutObject", "PutObjectAcl", "PutObjectAnnotation",
    "PutObjectLegalHold", "PutObjectRetention", "PutObjectTagging", "PutObjectVersionAcl",
    "PutObjectVersionAnnotation", "PutObjectVersionTagging", "RestoreObject",
    "SubmitMultiRegionAccessPointRoutes", "TagResource", "UntagResource",
    "UpdateObjectEncryption")


# S3 condition keys that only some actions carry (lower case; a tag key up to its slash)
# -> those actions. Keys not listed here (s3:authType, s3:signatureversion, ...) come
# with every action.
KEY_ACTIONS: Final[dict[str, tuple[str, ...]]] = {
    "s3:accessgrantscope": ("CreateAccessGrant", "DeleteAccessGrant", "GetAccessGrant"),
    "s3:accessgrantsinstancearn": ("AbortMultipartUpload", "DeleteObject",
        "DeleteObjectVersion", "GetObject", "GetObjectAcl", "GetObjectVersion",
        "GetObjectVersionAcl", "ListBucket", "ListBucketMultipartUploads", "ListBucketVersions",
        "ListMultipartUploadParts", "PutObject", "PutObjectAcl", "PutObjectVersionAcl"),
    "s3:accessgrantslocationscope": ("CreateAccessGrantsLocation", "DeleteAccessGrantsLocation",
        "GetAccessGrantsLocation", "UpdateAccessGrantsLocation"),
    "s3:accesspointnetworkorigin": _ACCESS_POINT_KEY_ACTIONS,
    "s3:accesspointtag/": ("AbortMultipartUpload", "BypassGovernanceRetention",
        "CreateAccessPoint", "DeleteAccessPoint", "DeleteAccessPointPolicy", "DeleteObject",
        "DeleteObjectAnnotation", "DeleteObjectTagging", "DeleteObjectVersion",
        "DeleteObjectVersionAnnotation", "DeleteObjectVersionTagging", "GetAccessPoint",
        "GetAccessPointPolicy", "GetAccessPointPolicyStatus", "GetBucketAcl", "GetBucketCORS",
        "GetBucketLocation", "GetBucketNotification", "GetBucketPolicy", "GetObject",
        "GetObjectAcl", "GetObjectAnnotation", "GetObjectAttributes", "GetObjectLegalHold",
        "GetObjectRetention", "GetObjectTagging", "GetObjectVersion", "GetObjectVersionAcl",
        "GetObjectVersionAnnotation", "GetObjectVersionAttributes", "GetObjectVersionTagging",
        "ListBucket", "ListBucketMultipartUploads", "ListBucketVersions",
        "ListMultipartUploadParts", "ListObjectAnnotations", "ListObjectVersionAnnotations",
        "ListTagsForResource", "PutAccessPointPolicy", "PutObject", "PutObjectAcl",
        "PutObjectAnnotation", "PutObjectLegalHold", "PutObjectRetention", "PutObjectTagging",
        "PutObjectVersionAcl", "PutObjectVersionAnnotation", "PutObjectVersionTagging",
        "RestoreObject", "TagResource", "UntagResource", "UpdateObjectEncryption"),
    "s3:annotation-prefix": ("ListObjectAnnotations", "ListObjectVersionAnnotations"),
    "s3:buckettag/": ("AbortMultipartUpload", "AllowVendedLogDeliveryForResource",
        "BypassGovernanceRetention", "CreateBucket", "CreateBucketMetadataTableConfiguration",
        "DeleteBucket", "DeleteBucketMetadataTableConfiguration", "DeleteBucketPolicy",
        "DeleteBucketWebsite", "DeleteObject", "DeleteObjectAnnotation", "DeleteObjectTagging",
        "DeleteObjectVersion", "DeleteObjectVersionAnnotation", "DeleteObjectVersionTagging",
        "GetAccelerateConfiguration", "GetAnalyticsConfiguration", "GetBucketAbac",
        "GetBucketAcl", "GetBucketCORS", "GetBucketLocation", "GetBucketLogging",
        "GetBucketMetadataTableConfiguration", "GetBucketNotification",
        "GetBucketObjectLockConfiguration", "GetBucketOwnershipControls", "GetBucketPolicy",
        "GetBucketPolicyStatus", "GetBucketPublicAccessBlock", "GetBucketRequestPayment",
        "GetBucketTagging", "GetBucketVersioning", "GetBucketWebsite",
        "GetEncryptionConfiguration", "GetIntelligentTieringConfiguration",
        "GetInventoryConfiguration", "GetLifecycleConfiguration", "GetMetricsConfiguration",
        "GetObject", "GetObjectAcl", "GetObjectAnnotation", "GetObjectAttributes",
        "GetObjectLegalHold", "GetObjectRetention", "GetObjectTagging", "GetObjectTorrent",
        "GetObjectVersion", "GetObjectVersionAcl", "GetObjectVersionAnnotation",
        "GetObjectVersionAnnotationForReplication", "GetObjectVersionAttributes",
        "GetObjectVersionForReplication", "GetObjectVersionTagging", "GetObjectVersionTorrent",
        "GetReplicationConfiguration", "InitiateReplication", "ListBucket",
        "ListBucketMultipartUploads", "ListBucketVersions", "ListMultipartUploadParts",
        "ListObjectAnnotations", "ListObjectVersionAnnotations", "ListTagsForResource",
        "ObjectOwnerOverrideToBucketOwner", "PauseReplication", "PutAccelerateConfiguration",
        "PutAnalyticsConfiguration", "PutBucketAbac", "PutBucketAcl", "PutBucketCORS",
        "PutBucketLogging", "PutBucketNotification", "PutBucketObjectLockConfiguration",
        "PutBucketOwnershipControls", "PutBucketPolicy", "PutBucketPublicAccessBlock",
        "PutBucketRequestPayment", "PutBucketTagging", "PutBucketVersioning",
        "PutBucketWebsite", "PutEncryptionConfiguration", "PutIntelligentTieringConfiguration",
        "PutInventoryConfiguration", "PutLifecycleConfiguration", "PutMetricsConfiguration",
        "PutObject", "PutObjectAcl", "PutObjectAnnotation", "PutObjectLegalHold",
        "PutObjectRetention", "PutObjectTagging", "PutObjectVersionAcl",
        "PutObjectVersionAnnotation", "PutObjectVersionTagging", "PutReplicationConfiguration",
        "ReplicateDelete", "ReplicateObject", "ReplicateObjectAnnotation", "ReplicateTags",
        "RestoreObject", "TagResource", "UntagResource",
        "UpdateBucketMetadataAnnotationTableConfiguration",
        "UpdateBucketMetadataInventoryTableConfiguration",
        "UpdateBucketMetadataJournalTableConfiguration", "UpdateObjectEncryption"),
    "s3:dataaccesspointaccount": _ACCESS_POINT_KEY_ACTIONS,
    "s3:dataaccesspointarn": _ACCESS_POINT_KEY_ACTIONS,
    "s3:delimiter": ("ListBucket", "ListBucketVersions"),
    "s3:deliverysourcearn": ("AllowVendedLogDeliveryForResource",),
    "s3:destinationregion": ("PauseReplication",),
    "s3:existingjoboperation": ("DeleteJobTagging", "PutJobTagging", "UpdateJobPriority",
        "UpdateJobStatus"),
    "s3:existingjobpriority": ("DeleteJobTagging", "PutJobTagging", "UpdateJobPriority",
        "UpdateJobStatus"),
    "s3:existingobjecttag/": ("DeleteObjectAnnotation", "DeleteObjectTagging",
        "DeleteObjectVersionAnnotation", "DeleteObjectVersionTagging", "GetObject",
        "GetObjectAcl", "GetObjectAnnotation", "GetObjectAttributes", "GetObjectTagging",
        "GetObjectVersion", "GetObjectVersionAcl", "GetObjectVersionAnnotation",
        "GetObjectVersionAttributes", "GetObjectVersionTagging", "ListObjectAnnotations",
        "ListObjectVersionAnnotations", "PutObjectAcl", "PutObjectAnnotation",
        "PutObjectTagging", "PutObjectVersionAcl", "PutObjectVersionAnnotation",
        "PutObjectVersionTagging", "UpdateObjectEncryption"),
    "s3:if-match": ("DeleteObject", "PutObject"),
    "s3:if-none-match": ("PutObject",),
    "s3:inventoryaccessibleoptionalfields": ("PutInventoryConfiguration",),
    "s3:isreplicationpauserequest": ("PutReplicationConfiguration",),
    "s3:jobsuspendedcause": ("UpdateJobStatus",),
    "s3:locationconstraint": ("CreateAccessPoint", "CreateBucket"),
    "s3:logtype": ("AllowVendedLogDeliveryForResource",),
    "s3:max-annotation-results": ("ListObjectAnnotations", "ListObjectVersionAnnotations"),
    "s3:max-keys": ("ListBucket", "ListBucketVersions"),
    "s3:object-lock-event-hold": ("PutObject", "PutObjectRetention", "ReplicateObject"),
    "s3:object-lock-event-hold-duration-days": ("PutObject", "PutObjectRetention",
        "ReplicateObject"),
    "s3:object-lock-legal-hold": ("PutObject", "PutObjectLegalHold"),
    "s3:object-lock-mode": ("PutObject", "PutObjectRetention"),
    "s3:object-lock-remaining-retention-days": ("PutObject", "PutObjectRetention"),
    "s3:object-lock-retain-until-date": ("PutObject", "PutObjectRetention"),
    "s3:objectcreationoperation": ("PutObject",),
    "s3:prefix": ("ListBucket", "ListBucketVersions"),
    "s3:requestjoboperation": ("CreateJob",),
    "s3:requestjobpriority": ("CreateJob", "UpdateJobPriority"),
    "s3:requestobjecttag/": ("BypassGovernanceRetention", "PutObject", "PutObjectTagging",
        "PutObjectVersionTagging"),
    "s3:requestobjecttagkeys": ("BypassGovernanceRetention", "PutObject", "PutObjectTagging",
        "PutObjectVersionTagging"),
    "s3:resourcearnbeingauthorized": ("AllowVendedLogDeliveryForResource",),
    "s3:versionid": ("DeleteObjectVersion", "DeleteObjectVersionAnnotation",
        "DeleteObjectVersionTagging", "GetObjectVersion", "GetObjectVersionAcl",
        "GetObjectVersionAnnotation", "GetObjectVersionAttributes", "GetObjectVersionTagging",
        "GetObjectVersionTorrent", "ListObjectVersionAnnotations", "PutObjectVersionAcl",
        "PutObjectVersionAnnotation", "PutObjectVersionTagging"),
    "s3:x-amz-acl": ("BypassGovernanceRetention", "CreateAccessPoint", "CreateBucket",
        "PutBucketAcl", "PutObject", "PutObjectAcl", "PutObjectVersionAcl"),
    "s3:x-amz-bucket-namespace": ("CreateBucket",),
    "s3:x-amz-copy-source": ("BypassGovernanceRetention", "PutObject"),
    "s3:x-amz-grant-full-control": ("BypassGovernanceRetention", "CreateBucket", "PutBucketAcl",
        "PutObject", "PutObjectAcl", "PutObjectVersionAcl"),
    "s3:x-amz-grant-read": ("BypassGovernanceRetention", "CreateBucket", "PutBucketAcl",
        "PutObject", "PutObjectAcl", "PutObjectVersionAcl"),
    "s3:x-amz-grant-read-acp": ("BypassGovernanceRetention", "CreateBucket", "PutBucketAcl",
        "PutObject", "PutObjectAcl", "PutObjectVersionAcl"),
    "s3:x-amz-grant-write": ("BypassGovernanceRetention", "CreateBucket", "PutBucketAcl",
        "PutObject", "PutObjectAcl", "PutObjectVersionAcl"),
    "s3:x-amz-grant-write-acp": ("BypassGovernanceRetention", "CreateBucket", "PutBucketAcl",
        "PutObject", "PutObjectAcl", "PutObjectVersionAcl"),
    "s3:x-amz-metadata-directive": ("BypassGovernanceRetention", "PutObject"),
    "s3:x-amz-object-annotation-directive": ("PutObject",),
    "s3:x-amz-object-if-match": ("DeleteObjectAnnotation", "DeleteObjectVersionAnnotation",
        "PutObjectAnnotation", "PutObjectVersionAnnotation"),
    "s3:x-amz-object-ownership": ("CreateBucket",),
    "s3:x-amz-server-side-encryption": ("BypassGovernanceRetention", "PutObject",
        "ReplicateObject", "UpdateObjectEncryption"),
    "s3:x-amz-server-side-encryption-aws-kms-key-id": ("BypassGovernanceRetention", "PutObject",
        "ReplicateObject", "UpdateObjectEncryption"),
    "s3:x-amz-server-side-encryption-customer-algorithm": ("BypassGovernanceRetention",
        "PutObject", "ReplicateObject"),
    "s3:x-amz-storage-class": ("BypassGovernanceRetention", "PutObject", "PutObjectAcl",
        "PutObjectVersionAcl"),
    "s3:x-amz-website-redirect-location": ("BypassGovernanceRetention", "PutObject"),
}


def action_kinds() -> dict[str, tuple[str, Kind]]:
    """``"s3:getobject"`` -> (``"s3:GetObject"``, its kind), for every action a policy may name."""
    table: dict[str, tuple[str, Kind]] = {}
    kinds: tuple[tuple[tuple[str, ...], Kind], ...] = (
        (BUCKET_ACTIONS, "bucket"), (OBJECT_ACTIONS, "object"), (OTHER_ACTIONS, "other"))
    for names, kind in kinds:
        for name in names:
            table["s3:" + name.lower()] = ("s3:" + name, kind)
    for name in EC2_ACTIONS:
        table["ec2:" + name.lower()] = ("ec2:" + name, "other")
    return table
