from bale.cli.main import main

raise SystemExit(main())
