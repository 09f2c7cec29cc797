package deploy

// UserPolicy is the IAM policy a user's own credentials need for keel run,
// ps and kill with -env (README, "On AWS"): logs and IAM scoped to what keel
// names keel/* and keel-*, EBS direct writes, and the EC2 calls. EC2's
// Describe calls take no resource, and RegisterImage, RunInstances and the
// security group calls span several resource types: those are "*".
// iam:PassRole is limited to keel's roles, passed to EC2.
const UserPolicy = `{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "KeelLogs",
      "Effect": "Allow",
      "Action": [
        "logs:CreateLogGroup", "logs:DeleteLogGroup", "logs:PutRetentionPolicy", "logs:CreateLogStream",
        "logs:FilterLogEvents", "logs:StartLiveTail"
      ],
      "Resource": ["arn:aws:logs:*:*:log-group:keel/*", "arn:aws:logs:*:*:log-group:keel/*:*"]
    },
    {
      "Sid": "KeelLogsDescribe",
      "Effect": "Allow",
      "Action": ["logs:DescribeLogGroups"],
      "Resource": "*"
    },
    {
      "Sid": "KeelRoles",
      "Effect": "Allow",
      "Action": [
        "iam:GetRole", "iam:CreateRole", "iam:DeleteRole", "iam:TagRole",
        "iam:GetRolePolicy", "iam:PutRolePolicy", "iam:DeleteRolePolicy",
        "iam:GetInstanceProfile", "iam:CreateInstanceProfile", "iam:DeleteInstanceProfile",
        "iam:AddRoleToInstanceProfile", "iam:RemoveRoleFromInstanceProfile", "iam:ListInstanceProfilesForRole"
      ],
      "Resource": ["arn:aws:iam::*:role/keel-*", "arn:aws:iam::*:instance-profile/keel-*"]
    },
    {
      "Sid": "KeelPassRole",
      "Effect": "Allow",
      "Action": "iam:PassRole",
      "Resource": "arn:aws:iam::*:role/keel-*",
      "Condition": {"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}}
    },
    {
      "Sid": "KeelSnapshots",
      "Effect": "Allow",
      "Action": ["ebs:StartSnapshot", "ebs:PutSnapshotBlock", "ebs:CompleteSnapshot"],
      "Resource": "arn:aws:ec2:*::snapshot/*"
    },
    {
      "Sid": "KeelEC2",
      "Effect": "Allow",
      "Action": [
        "ec2:DescribeImages", "ec2:DescribeSnapshots", "ec2:DescribeInstances",
        "ec2:RegisterImage", "ec2:DeregisterImage", "ec2:DeleteSnapshot", "ec2:CreateTags",
        "ec2:CreateSecurityGroup", "ec2:AuthorizeSecurityGroupIngress", "ec2:DeleteSecurityGroup",
        "ec2:RunInstances", "ec2:StopInstances", "ec2:TerminateInstances"
      ],
      "Resource": "*"
    }
  ]
}
`
